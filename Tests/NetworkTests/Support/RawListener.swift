import Foundation
import Glibc
import Synchronization

/// A hand-written loopback server for client tests: it accepts on a port-0 socket, counts the
/// connections it accepts, and runs `handle` for each on its own thread, so a test can send exactly
/// the bytes (or the silence) it needs. `stop()` closes the listener and ends the accept thread.
final class RawListener: Sendable {
    typealias Handler = @Sendable (_ connection: RawConnection, _ index: Int, _ listener: RawListener) -> Void

    let port: Int
    private let fd: Int32
    private let accepted = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let acceptThreadDone = DispatchSemaphore(value: 0)

    /// Connections accepted so far.
    var acceptedCount: Int { accepted.load(ordering: .acquiring) }
    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    init(_ handle: @escaping Handler) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError("socket") }
        var address = RawConnection.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let error = RawSocketError("bind/listen")
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        port = Self.localPort(fd)
        let thread = Thread { [self] in
            acceptLoop(handle)
            acceptThreadDone.signal()
        }
        thread.start()
    }

    /// Answers `answer` to every request, except that its first connection answers once, then reads
    /// the next request and closes without a word — the race where a server drops an idle keep-alive
    /// connection just as the client reuses it.
    static func droppingFirstConnectionAfterOneAnswer(_ answer: String) throws -> RawListener {
        try RawListener { connection, index, _ in
            guard connection.readRequest() != nil else { return }
            try? connection.writeAll(Array(answer.utf8))
            if index == 0 {
                _ = connection.readRequest()
                connection.close()
                return
            }
            while connection.readRequest() != nil { try? connection.writeAll(Array(answer.utf8)) }
        }
    }

    /// A listener that accepts and reads but never answers, until the client gives up.
    static func silent() throws -> RawListener {
        try RawListener { connection, _, listener in
            while !listener.isStopped && !connection.sawEOF { connection.read(timeout: 0.1) { _ in false } }
        }
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        acceptThreadDone.wait()
        Glibc.close(fd)
    }

    private func acceptLoop(_ handle: @escaping Handler) {
        while !isStopped {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            let index = accepted.add(1, ordering: .acquiringAndReleasing).oldValue
            let connection = RawConnection(fd: client)
            let thread = Thread { [self] in handle(connection, index, self) }
            thread.start()
        }
    }

    static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension RawConnection {
    /// Reads one request head (and a Content-Length body) sent to a `RawListener`; `nil` if the
    /// peer closed or nothing complete came within `timeout`.
    func readRequest(timeout: Double = 5) -> String? {
        var end: Int?
        read(timeout: timeout) { bytes in
            guard let head = bytes.firstRange(of: [13, 10, 13, 10]) else { return false }
            let text = String(decoding: bytes[..<head.lowerBound], as: UTF8.self).lowercased()
            let length =
                text.components(separatedBy: "\r\n")
                .first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            guard bytes.count >= head.upperBound + length else { return false }
            end = head.upperBound + length
            return true
        }
        guard let end else { return nil }
        let request = String(decoding: buffer[..<end], as: UTF8.self)
        consume(end)
        return request
    }
}
