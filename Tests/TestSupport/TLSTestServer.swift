import CTLS
import Foundation
import Synchronization

/// A tiny blocking https server on 127.0.0.1 for tests, using libssl: each connection gets a thread
/// that completes the handshake, then answers requests with keep-alive (a body framed by
/// `Content-Length` is read and kept). It counts connections and finished handshakes and records
/// request targets and bodies, so a test can tell TLS really carried them.
public final class TLSTestServer: Sendable {
    /// Status and JSON body for a request target.
    public typealias Handler = @Sendable (_ target: String) -> (status: Int, body: String)

    public let port: Int
    private let fd: Int32
    private let context: Context
    private let handler: Handler
    /// Answers given on one connection before it is closed (on reading the next request unanswered).
    private let answersPerConnection: Int
    private let stopped = Atomic<Bool>(false)
    private let acceptDone = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    private struct State {
        var accepted = 0
        var handshakes = 0
        var targets: [String] = []
        var bodies: [[UInt8]] = []
    }

    /// Connections accepted so far.
    public var acceptedCount: Int { state.withLock { $0.accepted } }
    /// TLS handshakes completed so far.
    public var handshakeCount: Int { state.withLock { $0.handshakes } }
    /// Request targets received over TLS, in order.
    public var targets: [String] { state.withLock { $0.targets } }
    /// Request bodies received (empty for a request without one), in order.
    public var bodies: [[UInt8]] { state.withLock { $0.bodies } }

    /// Serves `certificate` (its key stays in memory) until `stop()`.
    /// - Parameter answersPerConnection: after this many answers a connection is closed when the next
    ///   request arrives, without an answer (a server dropping a keep-alive connection); default unlimited.
    public init(certificate: TestCertificate, answersPerConnection: Int = .max, handler: @escaping Handler) throws {
        // OpenSSL writes to the socket itself here; a client that hung up must not kill the test run.
        signal(SIGPIPE, SIG_IGN)
        context = try Context(certificate)
        self.handler = handler
        self.answersPerConnection = answersPerConnection
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, listening else {
            close(fd)
            throw TestCertificateError("listening on 127.0.0.1")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            acceptLoop()
            acceptDone.signal()
        }.start()
    }

    /// Stops accepting; connection threads end within 200 ms.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        acceptDone.wait()
        close(fd)
    }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func acceptLoop() {
        while !isStopped {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            state.withLock { $0.accepted += 1 }
            Thread { [self] in serve(client) }.start()
        }
    }

    /// One connection: handshake, then request after request until the client leaves or we stop.
    private func serve(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let ssl = SSL_new(context.pointer) else { return }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, client)
        guard handshake(ssl) else { return }
        state.withLock { $0.handshakes += 1 }
        var buffer: [UInt8] = []
        var answered = 0
        while let (target, body) = readRequest(ssl, &buffer) {
            guard answered < answersPerConnection else { return }
            state.withLock {
                $0.targets.append(target)
                $0.bodies.append(body)
            }
            let (status, body) = handler(target)
            let answer =
                "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            guard Array(answer.utf8).withUnsafeBytes({ SSL_write(ssl, $0.baseAddress, Int32($0.count)) }) > 0 else {
                return
            }
            answered += 1
        }
        _ = SSL_shutdown(ssl)
    }

    /// Retries the handshake across receive timeouts until it ends or the server stops.
    private func handshake(_ ssl: OpaquePointer) -> Bool {
        while !isStopped {
            ERR_clear_error()
            let result = SSL_accept(ssl)
            if result == 1 { return true }
            guard SSL_get_error(ssl, result) == SSL_ERROR_WANT_READ else { return false }
        }
        return false
    }

    /// The target and body of the next request, or `nil` when the client left, TLS failed or we stopped.
    private func readRequest(_ ssl: OpaquePointer, _ buffer: inout [UInt8]) -> (String, [UInt8])? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var head: String?
        var length = 0
        while !isStopped {
            if head == nil, let end = buffer.firstRange(of: [13, 10, 13, 10]) {
                head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                for line in head?.split(separator: "\r\n") ?? [] where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let head, buffer.count >= length {
                let body = Array(buffer[..<length])
                buffer.removeSubrange(..<length)
                let parts = head.prefix { $0 != "\r" }.split(separator: " ")
                return parts.count >= 2 ? (String(parts[1]), body) : nil
            }
            ERR_clear_error()
            let n = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<Int(n)])
            } else if SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ {
                return nil
            }
        }
        return nil
    }

    /// The server's `SSL_CTX` holding the certificate and its key; read-only once made.
    private final class Context: @unchecked Sendable {
        let pointer: OpaquePointer

        init(_ certificate: TestCertificate) throws {
            guard let pointer = SSL_CTX_new(TLS_server_method()) else { throw TestCertificateError("SSL_CTX_new") }
            self.pointer = pointer
            guard SSL_CTX_use_certificate(pointer, certificate.certificate) == 1,
                SSL_CTX_use_PrivateKey(pointer, certificate.key) == 1, SSL_CTX_check_private_key(pointer) == 1
            else { throw TestCertificateError("loading the server certificate") }
        }

        deinit { SSL_CTX_free(pointer) }
    }
}
