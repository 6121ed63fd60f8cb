import ConciergeModels
import Foundation
import Glibc
import Synchronization

/// A Server-Sent Events client for tests, on a plain socket so that it sees exactly what the server
/// writes: it opens `GET /v1/events` with `Accept: text/event-stream` on a local service, reads the
/// chunked body on a thread of its own, and keeps every event (`id`, `event`, `data`) and comment it
/// receives. Tests wait on `events` with `eventually`.
public final class EventStreamReader: Sendable {
    public struct Received: Sendable, Equatable {
        public var id: String?
        public var event: String?
        public var data: String
        /// The event JSON, decoded.
        public var envelope: EventEnvelope? {
            try? JSONDecoder().decode(EventEnvelope.self, from: Data(data.utf8))
        }
    }

    private struct State {
        var head = ""
        var events: [Received] = []
        var comments = 0
        var ended = false
    }

    private let fd: Int32
    private let state = Mutex(State())

    /// Opens the stream; `query` is appended to the path (`?types=conversation.*`).
    public init(port: Int, token: String, query: String = "", lastEventID: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var request = "GET /v1/events\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
        request += "Accept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "sse-reader"
        thread.start()
    }

    deinit { close() }

    /// Stops reading and closes the socket (the server sees the client leave).
    public func close() {
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The response head (status line and headers) once it has arrived.
    public var head: String { state.withLock { $0.head } }
    public var events: [Received] { state.withLock { $0.events } }
    public var envelopes: [EventEnvelope] { events.compactMap(\.envelope) }
    /// Comment lines received (keep-alives).
    public var comments: Int { state.withLock { $0.comments } }
    /// Whether the server ended the stream (or the connection).
    public var ended: Bool { state.withLock { $0.ended } }

    private func readLoop() {
        var raw: [UInt8] = []
        var body: [UInt8] = []
        var headDone = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        defer {
            state.withLock { $0.ended = true }
            Glibc.close(fd)
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            raw.append(contentsOf: buffer[0..<n])
            if !headDone {
                guard let end = Self.find([13, 10, 13, 10], in: raw) else { continue }
                let head = String(decoding: raw[..<end], as: UTF8.self)
                state.withLock { $0.head = head }
                raw.removeFirst(end + 4)
                headDone = true
                guard head.hasPrefix("HTTP/1.1 200") else { return }
            }
            // De-chunk what is complete.
            while let lineEnd = Self.find([13, 10], in: raw) {
                guard let size = Int(String(decoding: raw[..<lineEnd], as: UTF8.self), radix: 16) else { return }
                if size == 0 { return }
                guard raw.count >= lineEnd + 2 + size + 2 else { break }
                body.append(contentsOf: raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
                raw.removeFirst(lineEnd + 2 + size + 2)
            }
            // Split complete messages (blank-line separated).
            while let end = Self.find([10, 10], in: body) {
                let message = String(decoding: body[..<end], as: UTF8.self)
                body.removeFirst(end + 2)
                parse(message)
            }
        }
    }

    private func parse(_ message: String) {
        var received = Received(id: nil, event: nil, data: "")
        var hasData = false
        var comments = 0
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                comments += 1
            } else if line.hasPrefix("id: ") {
                received.id = String(line.dropFirst(4))
            } else if line.hasPrefix("event: ") {
                received.event = String(line.dropFirst(7))
            } else if line.hasPrefix("data: ") {
                received.data += (hasData ? "\n" : "") + line.dropFirst(6)
                hasData = true
            }
        }
        state.withLock { state in
            state.comments += comments
            if hasData { state.events.append(received) }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}
