import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import Storage
import Synchronization

/// A durable outbox: state-changing calls to other services are written in the same transaction as
/// the change they announce, then delivered by a dispatcher with exponential backoff until the
/// receiver answers 2xx. Delivery is at least once, in order per target and ordering key (the
/// entity the calls are about: a conversation, a contact); receivers dedupe on the `Idempotency-Key`
/// header (the entry id). Entries survive restarts and SIGKILL because they are rows.
public final class Outbox: Sendable {
    /// One pending call, as stored.
    public struct Entry: Sendable {
        public let seq: Int64
        public let id: String
        /// What the call is (`OutboxCall.Kind`); answers are applied by kind.
        public let kind: OutboxCall.Kind
        public let target: String
        public let method: String
        public let path: String
        public let body: [UInt8]
        public let requestID: String?
        public let attempts: Int
        /// Entries with the same target and key are delivered in order; `nil` orders by target alone.
        public let key: String?

        var orderingGroup: String { target + "\u{1F}" + (key ?? "") }
    }

    /// Where each named target lives and how calls to it authenticate.
    public struct Target: Sendable {
        public let baseURL: String
        public let token: @Sendable () -> String
        public init(baseURL: String, token: @escaping @Sendable () -> String) {
            self.baseURL = baseURL
            self.token = token
        }
    }

    /// Applies a receiver's answer in the transaction that removes the delivered entry, so an
    /// answer is never lost to a crash: until it commits, the entry is delivered again.
    public typealias DeliveryHook = @Sendable (Entry, ClientResponse, Connection) throws -> Void

    private let db: Database
    /// Where a request's own delivery (`settle`, `deliverNow`) commits the answer: shared with the
    /// request's other writes, so a burst costs a few transactions. The dispatcher writes directly.
    private let writer: GroupWriter?
    /// A class around the hooks: a closure kept directly in a `Mutex` gets re-wrapped in reabstraction
    /// thunks each time it is read back, and the chain grows with every delivery (measured; see BENCHMARKS.md).
    private final class HookBox: Sendable {
        let apply: DeliveryHook
        init(_ apply: @escaping DeliveryHook) { self.apply = apply }
    }

    /// What to do with each kind of call's successful answer; kinds not listed need nothing done.
    private let hooks = Mutex<[OutboxCall.Kind: HookBox]>([:])
    private let targets: [String: Target]
    private let http: HTTPClient
    private let logger: Logger
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    /// Entries being sent now, and the callers of `settle` waiting for one of those sends to end.
    private let claims = Mutex(Claims())
    /// Entries written in this process so far (any outbox), for `notifyIfWritten()`.
    private static let written = Atomic<UInt64>(0)
    /// `written` as of the last wake-up given.
    private let notified = Atomic<UInt64>(0)
    /// Seconds per delivery attempt; default 5.
    public let attemptTimeout: Double

    public init(
        db: Database, writer: GroupWriter? = nil, targets: [String: Target], http: HTTPClient = .shared, logger: Logger,
        attemptTimeout: Double = 5
    ) {
        self.db = db
        self.writer = writer
        self.targets = targets
        self.http = http
        self.logger = logger
        self.attemptTimeout = attemptTimeout
        // Entries are rows of the caller's own transaction: once it commits, the dispatcher looks.
        db.observeCommits { [weak self] in self?.notifyIfWritten() }
    }

    /// Adds a call to the outbox inside the caller's write transaction; returns the entry id. The
    /// dispatcher is woken when that transaction commits (`Database.observeCommits`): callers never
    /// have to remember to.
    /// - Parameters:
    ///   - heldFor: seconds the dispatcher leaves the entry alone because the caller delivers it
    ///     itself (`settle`) right after the commit. Without it the dispatcher, woken by that very
    ///     commit, races the caller for the entry: one of them sends while the other waits, and
    ///     every such delivery queues on the dispatcher's single thread. A failed attempt by the
    ///     caller hands the entry to the dispatcher's backoff at once; after a crash the dispatcher
    ///     takes it when the hold ends.
    @discardableResult
    public static func enqueue(_ connection: Connection, _ call: OutboxCall, id: String? = nil, heldFor: Double? = nil)
        throws -> String
    {
        let entryID = id ?? Identifier.make()
        let now = OutboxClock.milliseconds()
        let due = now + Int64((heldFor ?? 0) * 1000)
        try OutboxStore.insert(connection, call, id: entryID, requestID: RequestTrace.requestID, due: due, now: now)
        // An entry held for its caller needs no dispatcher yet; if the caller fails, `attempt` wakes it.
        if due == now { written.add(1, ordering: .releasing) }
        return entryID
    }

    /// Sets what to do with the successful answers to calls of these kinds (e.g. apply a routing
    /// decision), in the transaction that removes the entry; set before `run()`.
    public func onDelivered(_ kinds: OutboxCall.Kind..., apply: @escaping DeliveryHook) {
        let box = HookBox(apply)
        hooks.withLock { hooks in for kind in kinds { hooks[kind] = box } }
    }

    /// Wakes the dispatcher for a pass over due entries. Commits that wrote entries wake it by
    /// themselves; this is for tests and for entries whose hold was cut short.
    public func notify() {
        notified.store(Self.written.load(ordering: .acquiring), ordering: .releasing)
        wakeup.signal()
    }

    /// `notify()` only if an entry was written (by any outbox in the process) since the last call,
    /// for the hook that runs after every commit (`Database.observeCommits`): routing commits
    /// thousands of decisions a second, most without an entry, and each woke the dispatcher for a
    /// pass over its backlog. Call it only where no other transaction can have written an entry since
    /// this one committed — as in the commit observer, which runs before the next transaction begins —
    /// or that entry's own call would find nothing new and leave it to the dispatcher's next look
    /// (within 500 ms).
    public func notifyIfWritten() {
        let count = Self.written.load(ordering: .acquiring)
        if notified.exchange(count, ordering: .acquiringAndReleasing) != count { wakeup.signal() }
    }

    /// Entries waiting, per target, and the age of the oldest in seconds (for `/metrics`).
    public func depth() -> [(target: String, count: Int, oldestSeconds: Double)] {
        let now = OutboxClock.milliseconds()
        return (try? db.read { try OutboxStore.depth($0, now: now) }) ?? []
    }

    /// Delivers until `stop()`. Runs on its own thread: deliveries are blocking calls with timeouts.
    public func run() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                self.loop()
                done.resume()
            }
            thread.name = "outbox"
            thread.start()
        }
    }

    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// Tries to deliver one entry right now from the request that wrote it, so the common case needs
    /// no dispatcher round trip. Returns the receiver's answer on success; on failure the entry stays
    /// for the dispatcher. An entry with an earlier one of its target and key still waiting is not
    /// sent (it would overtake it), nor one the dispatcher is sending.
    public func deliverNow(_ id: String, timeout: Double? = nil) async -> ClientResponse? {
        if case .delivered(let response) = await attempt(id, timeout: timeout ?? attemptTimeout) { return response }
        return nil
    }

    /// Waits until the entry is settled — delivered now, or by the dispatcher meanwhile — for at most
    /// `timeout` seconds; `false` when it is still waiting (the receiver failed or is slow). While
    /// another sender has the entry, or an earlier entry of its group, this waits (suspended) for a
    /// send to end and then tries again.
    /// - Parameter apply: what to do with the answer, in the transaction that removes the entry, when
    ///   this call delivers it; `nil` applies what `onDelivered` set for the entry's kind (the
    ///   dispatcher always does). Give the same function both ways.
    public func settle(_ id: String, timeout: Double, applying apply: DeliveryHook? = nil) async -> Bool {
        let deadline = DispatchTime.now() + timeout
        while true {
            let remaining =
                Double(Int64(deadline.uptimeNanoseconds) - Int64(DispatchTime.now().uptimeNanoseconds)) / 1e9
            guard remaining > 0 else {
                notify()  // the caller stops waiting: the dispatcher takes over
                return false
            }
            let sendsEnded = claims.withLock { $0.sendsEnded }
            switch await attempt(id, timeout: remaining, applying: apply) {
            case .delivered, .gone: return true
            case .failed: return false
            case .busy: await nextSendEnds(after: sendsEnded, deadline: deadline)
            }
        }
    }

    /// Suspends until a send ends after the `sendsEnded`-th (at once if one has), or until `deadline`.
    private func nextSendEnds(after sendsEnded: UInt64, deadline: DispatchTime) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let token = claims.withLock { claims -> UInt64? in
                guard claims.sendsEnded == sendsEnded else { return nil }
                claims.nextToken += 1
                claims.waiters[claims.nextToken] = continuation
                return claims.nextToken
            }
            guard let token else { return continuation.resume() }
            DispatchQueue.global().asyncAfter(deadline: deadline) { [self] in
                claims.withLock { $0.waiters.removeValue(forKey: token) }?.resume()
            }
        }
    }

    private enum Attempt {
        case delivered(ClientResponse)
        case failed
        /// Claimed by another sender, or an earlier entry of its group must go first.
        case busy
        /// No longer in the outbox: settled already.
        case gone
    }

    private func attempt(_ id: String, timeout: Double, applying apply: DeliveryHook? = nil) async -> Attempt {
        guard claim(id) else { return .busy }
        defer { release(id) }
        // The entry and whether an earlier one of its group is still waiting, in one read transaction.
        let found = try? db.read { try OutboxStore.entryAndEarlier($0, id: id) }
        guard let found = found ?? nil else { return .gone }
        guard found.earlier == 0 else { return .busy }
        let entry = found.entry
        guard let target = targets[entry.target] else { return .failed }
        let request = Self.request(for: entry, target: target)
        do {
            let response = try await http.send(request, timeout: timeout)
            if response.isSuccess, let writer {
                if await settle(entry, answer: response, through: writer, applying: apply) {
                    return .delivered(response)
                }
                notify()
                return .failed
            }
            if handle(entry, outcome: .answered(response), applying: apply) { return .delivered(response) }
            notify()
            return .failed
        } catch {
            _ = handle(entry, outcome: .failed(error))
            // The caller gives up its hold: the entry is the dispatcher's, with its backoff, from now.
            notify()
            return .failed
        }
    }

    // MARK: - Dispatcher

    private func loop() {
        while !stopping.load(ordering: .acquiring) {
            let pass = deliverDue()
            if stopping.load(ordering: .acquiring) { break }
            switch pass {
            case .delivered:
                continue
            case .idle(let nextDue):
                // Until the first waiting entry is due (at most 500 ms), or a commit writes another.
                let milliseconds = min(500, max(1, (nextDue ?? Int64.max) - OutboxClock.milliseconds()))
                _ = wakeup.wait(timeout: .now() + .milliseconds(Int(milliseconds)))
            case .failing:
                // Every due entry's receiver failed: new commits must not wake a pass that would only
                // fail again, so rest before retrying (each entry keeps its own backoff too).
                Thread.sleep(forTimeInterval: 0.2)
            }
            // `notify()` signals once per commit: the count since this pass began is one wake-up,
            // not thousands of passes over the same backlog.
            while wakeup.wait(timeout: .now()) == .success {}
        }
    }

    /// What a dispatcher pass achieved.
    private enum Pass {
        /// At least one entry was settled: look again at once.
        case delivered
        /// Nothing was due; when the first waiting entry will be (nil: none waits).
        case idle(nextDue: Int64?)
        /// Entries were due but none could be delivered.
        case failing
    }

    /// One pass over due entries, in order. A group (target and key) whose entry fails is skipped for
    /// the rest of the pass so its later entries never overtake the failed one; a target that cannot
    /// be reached at all is skipped whole.
    private func deliverDue() -> Pass {
        let now = OutboxClock.milliseconds()
        guard let due = try? db.read({ try OutboxStore.due($0, now: now) }) else { return .idle(nextDue: nil) }
        guard !due.entries.isEmpty else { return .idle(nextDue: due.next) }
        var blocked = Set<String>()
        var unreachable = Set<String>()
        var deliveredAny = false
        for entry in due.entries where !blocked.contains(entry.orderingGroup) && !unreachable.contains(entry.target) {
            if stopping.load(ordering: .acquiring) { break }
            guard claim(entry.id) else {
                blocked.insert(entry.orderingGroup)
                continue
            }
            defer { release(entry.id) }
            guard let target = targets[entry.target] else {
                _ = handle(entry, outcome: .permanent(status: 0, reason: "unknown target \(entry.target)"))
                continue
            }
            let request = Self.request(for: entry, target: target)
            let outcome: Outcome
            do {
                outcome = .answered(try http.perform(request, seconds: attemptTimeout))
            } catch {
                outcome = .failed(error)
                unreachable.insert(entry.target)
            }
            if handle(entry, outcome: outcome) { deliveredAny = true } else { blocked.insert(entry.orderingGroup) }
        }
        return deliveredAny ? .delivered : .failing
    }

    private enum Outcome {
        case answered(ClientResponse)
        case failed(HTTPClientError)
        case permanent(status: Int, reason: String)
    }

    /// Removes a delivered entry and applies its answer in one change through `writer`.
    private func settle(
        _ entry: Entry, answer: ClientResponse, through writer: GroupWriter, applying apply: DeliveryHook?
    ) async -> Bool {
        do {
            try await writer.write(settlement(entry, answer, applying: apply))
            return true
        } catch {
            retryLater(entry, error: "applying the answer failed: \(error)")
            return false
        }
    }

    /// The change that settles a delivered entry: remove it and apply the answer, once.
    private func settlement(
        _ entry: Entry, _ answer: ClientResponse, applying given: DeliveryHook? = nil
    ) -> @Sendable (Connection) throws -> Void {
        let apply = given ?? hooks.withLock { $0[entry.kind] }?.apply
        return { connection in
            // Already settled by a concurrent attempt: nothing to apply twice.
            guard try OutboxStore.delete(connection, id: entry.id) else { return }
            try apply?(entry, answer, connection)
        }
    }

    /// Records an attempt's result; returns whether the entry is settled (delivered or dead-lettered).
    private func handle(_ entry: Entry, outcome: Outcome, applying apply: DeliveryHook? = nil) -> Bool {
        switch outcome {
        case .answered(let response) where response.isSuccess:
            do {
                try db.write(settlement(entry, response, applying: apply))
            } catch {
                retryLater(entry, error: "applying the answer failed: \(error)")
                return false
            }
            return true
        case .answered(let response) where [400, 413, 422].contains(response.status):
            let reason = String(decoding: response.body.prefix(500), as: UTF8.self)
            return handle(entry, outcome: .permanent(status: response.status, reason: reason))
        case .permanent(let status, let reason):
            // The receiver refused the call as invalid: retrying cannot help. Keep it for operators.
            logger.error(
                "outbox entry refused",
                ["entry": entry.id, "target": entry.target, "path": entry.path, "status": String(status)])
            try? db.write { connection in
                try OutboxStore.moveToDeadLetters(
                    connection, id: entry.id, status: status, reason: reason, now: OutboxClock.milliseconds())
            }
            return true
        case .answered(let response):
            retryLater(entry, error: "HTTP \(response.status)")
            return false
        case .failed(let error):
            retryLater(entry, error: error.description)
            return false
        }
    }

    private func retryLater(_ entry: Entry, error: String) {
        let attempts = entry.attempts + 1
        // 200 ms doubling to a 30 s ceiling, with jitter so restarted receivers are not stampeded.
        let base = min(30_000.0, 200.0 * pow(2.0, Double(min(attempts - 1, 10))))
        let delay = Int64(base * Double.random(in: 0.8...1.2))
        if attempts == 1 || attempts % 10 == 0 {
            logger.warning(
                "outbox delivery failed",
                ["entry": entry.id, "target": entry.target, "attempts": String(attempts), "error": error])
        }
        _ = try? db.write { connection in
            try OutboxStore.postpone(
                connection, id: entry.id, attempts: attempts, until: OutboxClock.milliseconds() + delay, error: error)
        }
    }

    private struct Claims: ~Copyable {
        var inProgress = Set<String>()
        /// Sends ended so far: a `settle` that saw this count before finding its entry busy waits
        /// only if it is unchanged, so a send ending in between is never missed.
        var sendsEnded: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextToken: UInt64 = 0
    }

    private func claim(_ id: String) -> Bool { claims.withLock { $0.inProgress.insert(id).inserted } }

    /// Ends a send (settled or not) and wakes every `settle` waiting for one to end.
    private func release(_ id: String) {
        let waiters = claims.withLock { claims -> [CheckedContinuation<Void, Never>] in
            claims.inProgress.remove(id)
            claims.sendsEnded &+= 1
            guard !claims.waiters.isEmpty else { return [] }
            defer { claims.waiters.removeAll() }
            return Array(claims.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private static func request(for entry: Entry, target: Target) -> ClientRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("Authorization", "Bearer \(target.token())"),
            ("Idempotency-Key", entry.id),
        ]
        if let requestID = entry.requestID { headers.append(("X-Request-ID", requestID)) }
        return ClientRequest(method: entry.method, url: target.baseURL + entry.path, headers: headers, body: entry.body)
    }
}
