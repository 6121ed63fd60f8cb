import Synchronization

/// Hands committed events to whoever listens live: open streams and held long polls. In memory
/// only — what it misses (a reader arriving late, a restart) is read back from the events table.
///
/// Events arrive through `publish` in `seq` order (after each commit, which runs in commit order)
/// and every stream gets each event it wants exactly once, in order: a stream first catches up from
/// the table, then goes live only once nothing is committed past what it read (`goLive`); from then
/// on it gets what is published after that point.
public final class EventHub: Sendable {
    /// Where a live subscriber's events go, each as its Server-Sent Events message (made once per
    /// event for all subscribers); `false` once the subscriber is gone (its stream ended).
    public typealias Sink = @Sendable ([UInt8]) -> Bool

    private struct Subscriber {
        let filter: EventFilter
        let sink: Sink
        var lastSeq: Int64
    }

    private struct Waiter {
        let filter: EventFilter
        let continuation: CheckedContinuation<Void, Never>
        /// Ends the wait at its time; cancelled when an event ends it first (no sleeper lingers).
        var timeout: Task<Void, Never>?
    }

    private struct State {
        var lastPublished: Int64
        var nextID = 0
        /// Subscribers that see every event's audience, and those that see one agent's.
        var everyone: [Int: Subscriber] = [:]
        var byAudience: [String: [Int: Subscriber]] = [:]
        var waiters: [Int: Waiter] = [:]
        var isClosed = false
    }

    private let state: Mutex<State>
    private let observers = Mutex<[@Sendable (Event) -> Void]>([])

    /// - Parameter lastSeq: the highest `seq` committed when the service started.
    public init(lastSeq: Int64) {
        state = Mutex(State(lastPublished: lastSeq))
    }

    /// Whether the hub has closed (the service is shutting down).
    public var isClosed: Bool { state.withLock { $0.isClosed } }

    /// The highest `seq` published so far.
    public var lastPublished: Int64 { state.withLock { $0.lastPublished } }

    /// Hands a committed event to the live subscribers that want it and wakes matching long polls.
    /// Called in `seq` order, on the committing thread (keep it short).
    public func publish(_ event: Event) {
        var woken: [CheckedContinuation<Void, Never>] = []
        state.withLock { state in
            state.lastPublished = max(state.lastPublished, event.seq)
            var message: [UInt8]?
            Self.deliver(event, &message, to: &state.everyone)
            if let audience = event.audience, state.byAudience[audience] != nil {
                Self.deliver(event, &message, to: &state.byAudience[audience, default: [:]])
                if state.byAudience[audience]?.isEmpty == true { state.byAudience[audience] = nil }
            }
            for (id, waiter) in state.waiters where waiter.filter.matches(event) {
                woken.append(waiter.continuation)
                waiter.timeout?.cancel()
                state.waiters[id] = nil
            }
        }
        for continuation in woken { continuation.resume() }
        for observer in observers.withLock({ $0 }) { observer(event) }
    }

    /// Runs `observer` after each published event, on the committing thread (keep it short: e.g.
    /// wake a dispatcher).
    public func observe(_ observer: @escaping @Sendable (Event) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    // Sent under the lock so that two publishes never interleave one subscriber's events.
    private static func deliver(_ event: Event, _ message: inout [UInt8]?, to subscribers: inout [Int: Subscriber]) {
        for (id, subscriber) in subscribers where event.seq > subscriber.lastSeq {
            guard subscriber.filter.matches(event) else { continue }
            if message == nil { message = event.serverSentEvent }
            if subscriber.sink(message ?? []) {
                subscribers[id]?.lastSeq = event.seq
            } else {
                subscribers[id] = nil
            }
        }
    }

    /// Makes a subscriber live if nothing past `scannedThrough` (the table's highest `seq` when the
    /// subscriber last read it) has been published; returns its id, or `nil` when it must read again.
    public func goLive(filter: EventFilter, scannedThrough: Int64, sink: @escaping Sink) -> Int? {
        state.withLock { state in
            guard !state.isClosed, state.lastPublished <= scannedThrough else { return nil }
            let id = state.nextID
            state.nextID += 1
            let subscriber = Subscriber(filter: filter, sink: sink, lastSeq: scannedThrough)
            if let audience = filter.audience {
                state.byAudience[audience, default: [:]][id] = subscriber
            } else {
                state.everyone[id] = subscriber
            }
            return id
        }
    }

    public func unsubscribe(_ id: Int, audience: String?) {
        state.withLock { state in
            if let audience {
                state.byAudience[audience]?[id] = nil
                if state.byAudience[audience]?.isEmpty == true { state.byAudience[audience] = nil }
            } else {
                state.everyone[id] = nil
            }
        }
    }

    /// Live subscribers now (for metrics).
    public var subscriberCount: Int {
        state.withLock { state in state.everyone.count + state.byAudience.values.reduce(0) { $0 + $1.count } }
    }

    /// Long polls waiting now (for metrics).
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Waits until an event `filter` wants is published past `scannedThrough` (the table's highest
    /// `seq` when the caller last read it), `seconds` pass, or the hub closes; at once when anything
    /// was published past `scannedThrough` already. Holds no thread while it waits.
    public func wait(filter: EventFilter, scannedThrough: Int64, seconds: Double) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id: Int? = state.withLock { state in
                guard !state.isClosed, state.lastPublished <= scannedThrough else { return nil }
                let id = state.nextID
                state.nextID += 1
                state.waiters[id] = Waiter(filter: filter, continuation: continuation)
                return id
            }
            guard let id else {
                continuation.resume()
                return
            }
            let timeout = Task {
                guard (try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))) != nil else { return }
                self.endWait(id)
            }
            let stillWaiting = state.withLock { state in
                guard state.waiters[id] != nil else { return false }
                state.waiters[id]?.timeout = timeout
                return true
            }
            if !stillWaiting { timeout.cancel() }
        }
    }

    private func endWait(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume()
    }

    /// Ends every long poll now and refuses new live readers (the service is shutting down).
    public func close() {
        let waiters = state.withLock { state in
            state.isClosed = true
            for waiter in state.waiters.values { waiter.timeout?.cancel() }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.continuation.resume() }
    }
}
