import ConciergeCore
import ConciergeModels
import Foundation
import Synchronization

/// An HTTP/1.1 client for http and https (TLS via libssl) with a keep-alive pool per scheme, host
/// and port, connect and request timeouts, and `X-Request-ID` propagation. Blocking socket work
/// runs on a thread of its own per exchange, never on the Swift concurrency pool — except that a
/// caller on a server event loop (`ClientIO.waiter`) reuses a pooled http connection from that loop,
/// which wakes it when the answer arrives.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Seconds to establish a TCP connection (and for https finish the TLS handshake); default 2.
        public var connectTimeout: Double = 2
        /// Seconds for a whole exchange (connect, send, receive); default 10.
        public var requestTimeout: Double = 10
        /// Idle connections kept per host; default 64.
        public var maxIdlePerHost = 64
        /// Seconds an idle connection is kept; default 30 (below the server's 60 s idle timeout).
        public var idleTimeout: Double = 30
        /// Largest answer body accepted; default 16 MiB.
        public var maxResponseBytes = 16 << 20
        /// PEM file of certificate authorities trusted for https besides the system's; default the
        /// `CONCIERGE_CA_FILE` environment variable. Clients naming the same file share one TLS context.
        public var trustedCAFile: String? = ProcessInfo.processInfo.environment["CONCIERGE_CA_FILE"].flatMap {
            $0.isEmpty ? nil : $0
        }
        /// Addresses this client refuses to connect to, checked on every address a host resolves to;
        /// `nil` (the default) connects anywhere, as the services' calls on each other need. Set for
        /// URLs an administrator configures (`OutboundPolicy`).
        public var outboundPolicy: OutboundPolicy?
        public init() {}
    }

    public static let shared = HTTPClient()

    public let configuration: Configuration
    private let idle = Mutex<[String: [ClientConnection]]>([:])
    let workers = BlockingWorkers()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sends `request` and waits for the whole answer.
    /// - Parameter timeout: seconds for this exchange; default `configuration.requestTimeout`.
    public func send(_ request: ClientRequest, timeout: Double? = nil) async throws(HTTPClientError) -> ClientResponse {
        var request = request
        if let requestID = RequestTrace.requestID,
            !request.headers.contains(where: { $0.name.lowercased() == "x-request-id" })
        {
            request.headers.append(("X-Request-ID", requestID))
        }
        let seconds = timeout ?? configuration.requestTimeout
        let prepared = request
        if let waiter = ClientIO.waiter, waiter.isCurrentThread,
            let response = try await sendOnLoop(prepared, seconds: seconds, waiter: waiter)
        {
            return response
        }
        let result: Result<ClientResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            // Not a dispatch queue: on a small machine it runs only a few blocking exchanges at once, and
            // callers queued behind slow ones would wait far past their own timeout.
            workers.run {
                continuation.resume(
                    returning: Result { () throws(HTTPClientError) in try self.perform(prepared, seconds: seconds) })
            }
        }
        return try result.get()
    }

    /// The exchange on the caller's event loop, for plain http over a pooled keep-alive connection:
    /// the request is written at once (a few hundred bytes fit the socket buffer; a full buffer
    /// waits in `poll` as elsewhere) and the loop wakes the task when the answer arrives. `nil` when
    /// this path does not apply — https, no idle connection, or a pooled connection the server had
    /// closed before answering — and the worker path (which opens and retries) takes over.
    private func sendOnLoop(
        _ request: ClientRequest, seconds: Double, waiter: any ReadinessWaiter
    ) async throws(HTTPClientError) -> ClientResponse? {
        let endpoint = try Endpoint(request.url)
        guard !endpoint.isSecure, let connection = checkout(endpoint.poolKey) else { return nil }
        let deadline = ClientClock.now() + UInt64(max(0, min(seconds, 86_400)) * 1e9)
        let reader = ResponseReader(maxBodyBytes: configuration.maxResponseBytes, isHead: request.method == "HEAD")
        var buffer: [UInt8] = []
        do throws(HTTPClientError) {
            try connection.sendRaw(Self.serializeHead(request, endpoint: endpoint) + request.body, deadline: deadline)
            while true {
                guard let n = try connection.receiveNow(into: &buffer) else {
                    guard await waiter.waitReadable(connection.fd, deadline: deadline) else { throw .timedOut }
                    continue
                }
                if let response = try answer(in: buffer, afterReading: n, reader: reader, on: connection) {
                    return response
                }
            }
        } catch .connectionClosed where buffer.isEmpty {
            // A stale keep-alive connection: the server closed it while it sat in the pool.
            return nil
        }
    }

    /// The blocking exchange, for callers on their own threads (the outbox dispatcher): a pooled connection first, and one retry on a fresh connection if a
    /// pooled one turns out to have been closed before any answer byte arrived.
    public func perform(_ request: ClientRequest, seconds: Double) throws(HTTPClientError) -> ClientResponse {
        let endpoint = try Endpoint(request.url)
        let start = ClientClock.now()
        let deadline = start + UInt64(max(0, min(seconds, 86_400)) * 1e9)
        let head = Self.serializeHead(request, endpoint: endpoint)
        if let pooled = checkout(endpoint.poolKey) {
            do {
                return try exchange(on: pooled, head: head, request: request, deadline: deadline)
            } catch .connectionClosed {
                // A stale keep-alive connection: the server closed it while it sat in the pool.
            }
        }
        let connectDeadline = min(deadline, ClientClock.now() + UInt64(configuration.connectTimeout * 1e9))
        let fresh = try ClientConnection.open(
            endpoint, trusting: configuration.trustedCAFile, policy: configuration.outboundPolicy,
            deadline: connectDeadline)
        return try exchange(on: fresh, head: head, request: request, deadline: deadline)
    }

    private func exchange(
        on connection: ClientConnection, head: [UInt8], request: ClientRequest, deadline: UInt64
    ) throws(HTTPClientError) -> ClientResponse {
        try connection.writeAll(head + request.body, deadline: deadline)
        let reader = ResponseReader(maxBodyBytes: configuration.maxResponseBytes, isHead: request.method == "HEAD")
        var buffer: [UInt8] = []
        while true {
            let n = try connection.readSome(into: &buffer, deadline: deadline)
            if let response = try answer(in: buffer, afterReading: n, reader: reader, on: connection) {
                return response
            }
        }
    }

    /// The whole answer if `buffer` holds it (a read of 0 bytes: the peer closed), else `nil`; a
    /// connection left clean and kept alive goes back to the pool.
    private func answer(
        in buffer: [UInt8], afterReading count: Int, reader: ResponseReader, on connection: ClientConnection
    ) throws(HTTPClientError) -> ClientResponse? {
        if count == 0 {
            guard let response = try reader.finishAtEOF(buffer) else { throw .connectionClosed }
            return response
        }
        guard let (response, consumed, keepAlive) = try reader.parse(buffer) else { return nil }
        if keepAlive && consumed == buffer.count { checkin(connection) }
        return response
    }

    private func checkout(_ key: String) -> ClientConnection? {
        let maxIdle = UInt64(configuration.idleTimeout * 1e9)
        while let connection = idle.withLock({ $0[key]?.popLast() }) {
            // Read the clock after popping: another thread may have checked it in a moment ago.
            let now = ClientClock.now()
            let idleFor = now > connection.lastUsed ? now - connection.lastUsed : 0
            if idleFor < maxIdle && connection.isReusable { return connection }
        }
        return nil
    }

    private func checkin(_ connection: ClientConnection) {
        connection.lastUsed = ClientClock.now()
        let limit = configuration.maxIdlePerHost
        idle.withLock { pools in
            if pools[connection.key, default: []].count < limit {
                pools[connection.key, default: []].append(connection)
            }
        }
    }

    /// The request head as bytes, built byte-wise: filtering a bearer token `Character` by
    /// `Character` for line breaks stood out in the profile of every outgoing call (measured: 4 % of a
    /// service's CPU; see BENCHMARKS.md).
    static func serializeHead(_ request: ClientRequest, endpoint: Endpoint) -> [UInt8] {
        var head: [UInt8] = []
        head.reserveCapacity(256 + request.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        head.append(
            contentsOf:
                "\(request.method) \(endpoint.pathAndQuery) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\n"
                .utf8)
        var hasContentLength = false
        for (name, value) in request.headers {
            head.append(contentsOf: name.utf8)
            head.append(contentsOf: ": ".utf8)
            // Header values never carry line breaks, whatever the caller passed.
            for byte in value.utf8 where byte != 13 && byte != 10 { head.append(byte) }
            head.append(contentsOf: "\r\n".utf8)
            if !hasContentLength && name.utf8.elementsEqual("content-length".utf8, by: { $0 | 0x20 == $1 }) {
                hasContentLength = true
            }
        }
        if !hasContentLength && (!request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method)) {
            head.append(contentsOf: "Content-Length: \(request.body.count)\r\n".utf8)
        }
        head.append(contentsOf: "\r\n".utf8)
        return head
    }
}
