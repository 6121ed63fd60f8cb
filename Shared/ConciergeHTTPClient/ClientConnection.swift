import CSystem
import Foundation
import Glibc

/// One TCP connection used by one request at a time, with deadline-bounded blocking I/O
/// (`poll` before every read and write), run on the client's own threads (or, without waiting in
/// `poll`, on an event loop: `receiveNow`); for https, a TLS
/// session on top whose records go through the same I/O (`ClientConnection+TLS.swift`).
///
/// `@unchecked Sendable` because ownership moves whole: the pool hands a connection to exactly one
/// request, which gives it back (or drops it) when done; no two threads hold it at once.
final class ClientConnection: @unchecked Sendable {
    let fd: Int32
    let key: String
    var lastUsed: UInt64
    /// Bytes read past the end of the previous answer (should stay empty: we never pipeline).
    var pending: [UInt8] = []
    /// The TLS session of an https connection; `nil` for http.
    var tls: TLSSession?
    /// Where socket reads land before they are appended, allocated once per connection.
    private var chunk = [UInt8](repeating: 0, count: 16 * 1024)

    private init(fd: Int32, key: String) {
        self.fd = fd
        self.key = key
        lastUsed = ClientClock.now()
    }

    deinit {
        if let tls {
            // A best-effort close_notify: never waits, and a peer already gone is no error.
            tls.shutDown()
            let alert = tls.takeOutgoing()
            if !alert.isEmpty {
                _ = alert.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            }
        }
        close(fd)
    }

    /// Connects to `endpoint` within `deadline`, and for https completes the TLS handshake by then.
    /// - Parameters:
    ///   - caFile: PEM file of authorities trusted besides the system's (https only).
    ///   - policy: addresses never connected to; `nil` connects to any.
    static func open(
        _ endpoint: Endpoint, trusting caFile: String?, policy: OutboundPolicy? = nil, deadline: UInt64
    ) throws(HTTPClientError) -> ClientConnection {
        let context = endpoint.isSecure ? try TLSContext.shared(trusting: caFile) : nil
        let connection = try openSocket(endpoint, policy: policy, deadline: deadline)
        if let context { try connection.startTLS(host: endpoint.host, context: context, deadline: deadline) }
        return connection
    }

    private static func openSocket(
        _ endpoint: Endpoint, policy: OutboundPolicy?, deadline: UInt64
    ) throws(HTTPClientError) -> ClientConnection {
        var addresses = try resolve(endpoint.host, port: endpoint.port)
        if let policy {
            // After resolution, on the very addresses connected to: a name pointing at a refused
            // address is refused, and nothing can change the answer between the check and the connect.
            let refusals = addresses.map { policy.refusal(for: IPAddress($0.sin_addr)) }
            let allowed = zip(addresses, refusals).filter { $0.1 == nil }.map(\.0)
            if allowed.isEmpty, let first = refusals.compactMap({ $0 }).first {
                throw .refusedTarget("\(endpoint.host): \(first)")
            }
            addresses = allowed
        }
        var lastError = HTTPClientError.cannotResolve(endpoint.host)
        for address in addresses {
            do {
                return try connect(address, key: endpoint.poolKey, deadline: deadline)
            } catch {
                lastError = error
                if error == .timedOut { break }
            }
        }
        throw lastError
    }

    private static func resolve(_ host: String, port: Int) throws(HTTPClientError) -> [sockaddr_in] {
        var numeric = sockaddr_in()
        numeric.sin_family = sa_family_t(AF_INET)
        numeric.sin_port = in_port_t(UInt16(port).bigEndian)
        let literal = host == "localhost" ? "127.0.0.1" : host
        if inet_pton(AF_INET, literal, &numeric.sin_addr) == 1 { return [numeric] }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw .cannotResolve(host)
        }
        defer { freeaddrinfo(first) }
        var addresses: [sockaddr_in] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr, entry.pointee.ai_family == AF_INET {
                addresses.append(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw .cannotResolve(host) }
        return addresses
    }

    private static func connect(_ address: sockaddr_in, key: String, deadline: UInt64) throws(HTTPClientError)
        -> ClientConnection
    {
        let fd = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .connectFailed(String(cString: strerror(errno))) }
        let connection = ClientConnection(fd: fd, key: key)
        var address = address
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { throw .connectFailed(String(cString: strerror(errno))) }
            try connection.wait(for: Int16(POLLOUT), deadline: deadline)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw .connectFailed(String(cString: strerror(error))) }
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return connection
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    func wait(for events: Int16, deadline: UInt64) throws(HTTPClientError) {
        while true {
            let now = ClientClock.now()
            guard now < deadline else { throw .timedOut }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            let rc = poll(&descriptor, 1, milliseconds)
            if rc > 0 { return }
            if rc == 0 { throw .timedOut }
            if errno != EINTR { throw .connectionClosed }
        }
    }

    func writeAll(_ bytes: [UInt8], deadline: UInt64) throws(HTTPClientError) {
        if let tls { return try writeTLS(tls, bytes, deadline: deadline) }
        try sendRaw(bytes, deadline: deadline)
    }

    /// Reads what is available (waiting up to the deadline); an empty result means the peer closed.
    func readSome(into buffer: inout [UInt8], deadline: UInt64) throws(HTTPClientError) -> Int {
        if !pending.isEmpty {
            buffer.append(contentsOf: pending)
            defer { pending = [] }
            return pending.count
        }
        if let tls { return try readTLS(tls, into: &buffer, deadline: deadline) }
        return try receiveRaw(into: &buffer, deadline: deadline)
    }

    /// Sends all of `bytes` on the socket itself.
    func sendRaw(_ bytes: [UInt8], deadline: UInt64) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                try wait(for: Int16(POLLOUT), deadline: deadline)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw .connectionClosed
            }
        }
    }

    /// Reads what the socket itself has (waiting up to the deadline); 0 means the peer closed.
    func receiveRaw(into buffer: inout [UInt8], deadline: UInt64) throws(HTTPClientError) -> Int {
        while true {
            if let n = try receiveAvailable(into: &buffer) { return n }
            try wait(for: Int16(POLLIN), deadline: deadline)
        }
    }

    /// Reads what has arrived, without waiting: `nil` when nothing has yet, 0 when the peer closed.
    /// Plain http only (TLS records need `readSome`).
    func receiveNow(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int? {
        if !pending.isEmpty {
            buffer.append(contentsOf: pending)
            defer { pending = [] }
            return pending.count
        }
        return try receiveAvailable(into: &buffer)
    }

    /// One `recv` into `chunk`: the bytes read (0 at the peer's end), or `nil` if none are there yet.
    private func receiveAvailable(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int? {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return n
            }
            if n == 0 { return 0 }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw .connectionClosed
        }
    }

    /// An idle pooled connection is usable only if the server has not closed it (nothing readable,
    /// nothing left over inside TLS).
    var isReusable: Bool {
        if let tls, tls.hasBufferedInput { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }
}

enum ClientClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
