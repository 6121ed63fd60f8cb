import ConciergeAuth
import ConciergeCore
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Foundation
import Synchronization

/// The HTTP/1.1 server: event loops on epoll, a router, token checks, RFC 9457 errors, request ids,
/// access logs and metrics. `run()` returns after `shutdown()` once requests in flight have finished.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    let router: Router
    let logger: Logger
    let signer: JWTSigner?
    let revocation: (any TokenRevocation)?
    public let metrics: Metrics
    let problemFor: (@Sendable (any Error) -> Problem?)?
    /// Keeps and replays the answers to POSTs that carry `Idempotency-Key`; nil runs every request.
    let idempotentRequests: (any IdempotentRequests)?
    private let openConnections = Atomic<Int>(0)
    /// `configuration.maxConnections`, or less where the descriptor limit cannot hold it (set by `run()`).
    private let connectionCap = Atomic<Int>(0)
    private let requestsInFlight = Atomic<Int>(0)
    private let requestCounter = Atomic<UInt64>(0)
    private let requestIDPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    private let loops = Mutex<[EventLoop]>([])
    private let boundPort = Atomic<Int>(0)
    /// The listening socket while `run()` holds it open (-1 before and after), under a lock so that
    /// `shutdown()` never touches the number once it is closed and perhaps reused.
    private let listeningSocket = Mutex<Int32>(-1)
    /// When draining must end (monotonic ns; 0 until `shutdown()`): one grace period from the first
    /// call, shared by every wait of the shutdown, so the whole of it stays within the grace period.
    private let drainDeadline = Atomic<UInt64>(0)
    /// Callers of `waitUntilListening()` before the port is bound, and why binding failed, if it did.
    private let started = Mutex<(waiters: [CheckedContinuation<Int, any Error>], failure: (any Error)?)>(([], nil))

    let overloadAnswer: [UInt8]
    private let timeoutAnswer: [UInt8]
    private let bodyTimeoutAnswer: [UInt8]
    let spoolFailureAnswer: [UInt8]

    /// - Parameters:
    ///   - signer: verifies bearer tokens; `nil` serves only open routes (everything else is 401).
    ///   - revocation: refuses tokens of deactivated agents.
    /// - Parameter problemFor: turns an error the server does not know (a storage error, say) into
    ///   the problem to answer, or nil for a 500; from the service, which knows its storage.
    /// - Parameter idempotentRequests: answers the POSTs with `Idempotency-Key` on routes registered
    ///   `.replayed`; from the service, which stores the answers.
    public init(
        _ configuration: ServerConfiguration, router: Router, logger: Logger, signer: JWTSigner?,
        revocation: (any TokenRevocation)? = nil, metrics: Metrics = Metrics(),
        problemFor: (@Sendable (any Error) -> Problem?)? = nil, idempotentRequests: (any IdempotentRequests)? = nil
    ) {
        self.problemFor = problemFor
        self.idempotentRequests = idempotentRequests
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.signer = signer
        self.revocation = revocation
        self.metrics = metrics
        overloadAnswer = Response.problem(
            Problem(status: 503, title: "Service unavailable", detail: "Too many open connections; try again shortly.")
        ).serialized(requestID: nil, keepAlive: false)
        spoolFailureAnswer = Response.problem(
            Problem(
                status: 503, title: "Service unavailable",
                detail: "The request body could not be stored; try again later.")
        ).serialized(requestID: nil, keepAlive: false)
        timeoutAnswer = Response.problem(
            Problem(status: 408, title: "Request timeout", detail: "The request head did not arrive in time.")
        ).serialized(requestID: nil, keepAlive: false)
        bodyTimeoutAnswer = Response.problem(
            Problem(status: 408, title: "Request timeout", detail: "The request body arrived too slowly.")
        ).serialized(requestID: nil, keepAlive: false)
    }

    /// Binds, serves until `shutdown()`, drains, and returns.
    public func run() async throws {
        var listener: Int32 = -1
        var port = configuration.port
        let eventLoops: [EventLoop]
        connectionCap.store(fitConnectionCap(), ordering: .relaxed)
        do {
            // One listening socket; every loop waits on it with EPOLLEXCLUSIVE, so one wakes per connection
            // and gives it to the loop serving the fewest (`loopForNewConnection`).
            listener = try Socket.listen(host: configuration.host, port: port)
            listeningSocket.withLock { $0 = listener }
            if port == 0 { port = Socket.boundPort(listener) }
            let fd = listener
            eventLoops = try (0..<configuration.eventLoops).map { _ throws(SocketError) in
                try EventLoop(server: self, listenerFD: fd)
            }
        } catch {
            if listener >= 0 {
                listeningSocket.withLock { $0 = -1 }
                close(listener)
            }
            // Waiters would otherwise wait for a port that never comes.
            let waiters = started.withLock { state in
                state.failure = error
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        loops.withLock { $0 = eventLoops }
        let waiters = started.withLock { state in
            boundPort.store(port, ordering: .releasing)
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
        logger.info("listening", ["host": configuration.host, "port": String(port)])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Atomic<Int>(eventLoops.count)
            for loop in eventLoops {
                let thread = Thread {
                    loop.run()
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                }
                thread.name = "http-loop"
                // Handlers run here, and reading a request body recurses once per level of nesting (up to
                // `JSONParser.maxDepth`, 512), as does decoding it: 1 MiB overflowed well short of that in a debug
                // build (`NestedBodyTests`), so a deeply nested body could overflow it. 8 MiB is address space,
                // touched only as deep as a request goes.
                thread.stackSize = 8 << 20
                thread.start()
            }
        }
        // The loops hold this server; let both go now that their threads are done.
        loops.withLock { $0.removeAll() }
        listeningSocket.withLock { socket in
            close(socket)
            socket = -1
        }
        // Connections are closed; handlers whose client went away get what is left of the grace period.
        let deadline = shutdownDeadline
        while requestsInFlight.load(ordering: .acquiring) > 0 && Monotonic.nanoseconds() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        logger.info("stopped listening")
    }

    /// The port being served (useful with port 0); waits until bound.
    public func waitUntilListening() async throws -> Int {
        let port = boundPort.load(ordering: .acquiring)
        if port != 0 { return port }
        return try await withCheckedThrowingContinuation { continuation in
            // Checked under the lock `run()` publishes its outcome under, so none slips in between.
            let outcome = started.withLock { state -> Result<Int, any Error>? in
                let bound = boundPort.load(ordering: .acquiring)
                if bound != 0 { return .success(bound) }
                if let failure = state.failure { return .failure(failure) }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), then `run()` returns.
    public func shutdown() {
        if drainDeadline.compareExchange(expected: 0, desired: graceFromNow, ordering: .acquiringAndReleasing).exchanged
        {
            // Refuse new connections at once, the queued ones too, rather than leave them unanswered
            // until the loops let go of the socket (a listening socket shut down stops listening).
            listeningSocket.withLock { socket in
                if socket >= 0 { _ = Glibc.shutdown(socket, Int32(SHUT_RD)) }
            }
        }
        for loop in loops.withLock({ $0 }) { loop.beginDraining() }
    }

    /// When draining ends: one grace period after the first `shutdown()` (or from now, if none came).
    var shutdownDeadline: UInt64 {
        let deadline = drainDeadline.load(ordering: .acquiring)
        return deadline != 0 ? deadline : graceFromNow
    }

    private var graceFromNow: UInt64 {
        Monotonic.nanoseconds() + UInt64(configuration.shutdownGraceSeconds) * 1_000_000_000
    }

    /// Descriptors kept beyond the connection cap for everything else: database files, spooled bodies,
    /// calls to other services, refused connections being drained, the event loops' own.
    static let descriptorReserve = 256

    /// The connection cap the descriptor limit can hold. The soft limit is raised (up to the hard one)
    /// to the cap plus the reserve; if even that is short, the cap is lowered to fit, keeping a quarter
    /// of the limit (at most the reserve) for the rest, so the cap is reached before descriptors run out.
    private func fitConnectionCap() -> Int {
        let wanted = configuration.maxConnections + Self.descriptorReserve
        let limit = System.raiseDescriptorLimit(to: wanted)
        guard limit < wanted else { return configuration.maxConnections }
        let cap = max(1, limit - min(Self.descriptorReserve, limit / 4))
        logger.warning(
            "connection cap lowered to fit the descriptor limit",
            [
                "maxConnections": String(cap), "configured": String(configuration.maxConnections),
                "descriptorLimit": String(limit),
            ])
        return cap
    }

    // MARK: - Called by the event loops

    func admitConnection() -> Bool {
        let count = openConnections.add(1, ordering: .relaxed).newValue
        if count > connectionCap.load(ordering: .relaxed) {
            openConnections.subtract(1, ordering: .relaxed)
            connectionRefused()
            return false
        }
        return true
    }

    /// Counts a connection answered 503 and closed: over the cap, or accepted with the last descriptor.
    func connectionRefused() {
        metrics.increment(
            "http_connections_refused_total",
            help: "Connections refused over the connection cap or the descriptor limit.")
    }

    func connectionClosed() { openConnections.subtract(1, ordering: .relaxed) }

    /// Connections each event loop serves now (for tests and diagnostics).
    var connectionsPerLoop: [Int] { loops.withLock { $0.map { $0.openConnections.load(ordering: .relaxed) } } }

    /// The loop to serve a newly accepted connection: the one serving the fewest, `accepting` if tied.
    func loopForNewConnection(preferring accepting: EventLoop) -> EventLoop {
        loops.withLock { loops in
            var best = accepting
            var fewest = accepting.openConnections.load(ordering: .relaxed)
            for loop in loops where loop !== accepting {
                let count = loop.openConnections.load(ordering: .relaxed)
                if count < fewest { (best, fewest) = (loop, count) }
            }
            return best
        }
    }

    func requestStarted() { requestsInFlight.add(1, ordering: .relaxed) }
    func releaseRequest() { requestsInFlight.subtract(1, ordering: .relaxed) }

    var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    /// How this head's body is taken: its route's limit, or spooled to a file for routes that stream
    /// uploads; the server's limit for heads that match no route (they are answered 404 or 405 later).
    func bodyHandling(for head: RequestHead) -> RequestParser.BodyHandling {
        guard let route = route(for: head) else { return .collect(maxBytes: configuration.limits.maxBodyBytes) }
        return route.streamsBody ? .spool : .collect(maxBytes: route.maxBodyBytes)
    }

    var requestsInFlightCount: Int { requestsInFlight.load(ordering: .acquiring) }

    private func route(for head: RequestHead) -> Route? {
        guard head.method != "GET" else { return nil }
        let path = head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if case .found(let route, _) = router.match(method: head.method, path: path) { return route }
        return nil
    }

    func parseFailureAnswer(_ error: ParseError) -> [UInt8] {
        metrics.record(method: "-", route: "unparsed", status: error.status, seconds: 0)
        // Unparsed, so no method or route of its own: logged as the metrics count it.
        logger.info(
            "request rejected",
            ["method": "-", "route": "unparsed", "status": String(error.status), "reason": error.problem.detail ?? ""])
        return Response.problem(error.problem).serialized(requestID: nil, keepAlive: false)
    }

    /// The 408 for a request whose head or body missed its deadline, counted and logged as a rejected one.
    func deadlineAnswer(forBody: Bool) -> [UInt8] {
        metrics.record(method: "-", route: "unparsed", status: 408, seconds: 0)
        logger.info(
            "request rejected",
            [
                "method": "-", "route": "unparsed", "status": "408",
                "reason": forBody ? "body too slow" : "head too slow",
            ])
        return forBody ? bodyTimeoutAnswer : timeoutAnswer
    }

    func nextRequestID(from request: Request) -> String {
        if let given = request.head.header("x-request-id"), Self.isAcceptableRequestID(given) { return given }
        let n = requestCounter.add(1, ordering: .relaxed).newValue
        return requestIDPrefix + "-" + String(n, radix: 16)
    }

    /// A client's id is taken as sent (SPEC §2) when it is 1–128 printable ASCII characters other than
    /// `"` and `\`, so it can be logged, stored and sent on as a header unchanged; another is replaced.
    static func isAcceptableRequestID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { byte in
                byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            }
    }
}
