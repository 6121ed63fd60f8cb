import Foundation
import Glibc

struct RawSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, code: Int32 = errno) { description = "\(what): \(String(cString: strerror(code)))" }
}

/// A plain loopback TCP connection for byte-level tests: write exactly these bytes, read what comes
/// back within a deadline. Reads keep what they did not consume, so pipelined answers can be read
/// one by one.
///
/// `@unchecked Sendable` because a test uses one connection from one place at a time; the async
/// wrappers only move the blocking calls to a GCD thread.
final class RawConnection: @unchecked Sendable {
    let fd: Int32
    private(set) var buffer: [UInt8] = []
    private(set) var sawEOF = false
    private var isClosed = false

    init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects to `127.0.0.1:port` (blocking, so it is complete when this returns).
    static func connect(port: Int) throws -> RawConnection {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError("socket") }
        let connection = RawConnection(fd: fd)
        var address = Self.loopback(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw RawSocketError("connect") }
        return connection
    }

    static func connect(port: Int) async throws -> RawConnection {
        try await offPool { try connect(port: port) }
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    /// Half-closes: the peer sees end of stream, we can still read its answer.
    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    // MARK: - Blocking calls

    func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw RawSocketError("send")
            }
            offset += n
        }
    }

    /// Reads until `done(buffer)` holds, the peer closes, or `timeout` seconds pass.
    /// Returns whether `done` held. A reset by the peer counts as a close.
    @discardableResult
    func read(timeout: Double, until done: ([UInt8]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while !done(buffer) {
            guard !sawEOF else { return false }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&descriptor, 1, Int32(max(1, remaining * 1000)))
            if rc < 0 && errno == EINTR { continue }
            if rc <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n == 0 || errno != EINTR {
                sawEOF = true
            }
        }
        return true
    }

    /// Reads and removes one answer from the stream (`bodyless` for answers to HEAD).
    func readResponse(timeout: Double = 5, bodyless: Bool = false) throws -> RawResponse {
        var parsed: (RawResponse, Int)?
        read(timeout: timeout) { bytes in
            parsed = RawResponse.parse(bytes, bodyless: bodyless)
            return parsed != nil
        }
        guard let (response, consumed) = parsed else {
            throw RawSocketError("no complete answer (got \(buffer.count) bytes, eof: \(sawEOF))", code: 0)
        }
        consume(consumed)
        return response
    }

    /// Drops the first `count` bytes read, once a caller has used them.
    func consume(_ count: Int) { buffer.removeFirst(count) }

    /// Waits for the peer to close; returns whether it did within `timeout` seconds.
    func waitForClose(timeout: Double = 5) -> Bool {
        read(timeout: timeout) { _ in false }
        return sawEOF
    }

    // MARK: - Async wrappers (the blocking calls run off the cooperative pool)

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async throws {
        try await offPool { try self.writeAll(bytes) }
    }

    func response(timeout: Double = 5, bodyless: Bool = false) async throws -> RawResponse {
        try await offPool { try self.readResponse(timeout: timeout, bodyless: bodyless) }
    }

    func closedByPeer(timeout: Double = 5) async throws -> Bool {
        try await offPool { self.waitForClose(timeout: timeout) }
    }

    /// Everything read so far, as text.
    var text: String { String(decoding: buffer, as: UTF8.self) }
}
