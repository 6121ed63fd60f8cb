import ConciergeAuth
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import Synchronization

/// Delivers a service's events to its webhooks: at least once, in `seq` order per webhook, signed
/// (`WebhookSignature`, with the previous secret too during a rotation). A 2xx within the timeout is
/// success and moves the webhook's cursor past the event in one transaction with its log entry;
/// anything else is retried on the `RetryPolicy`, and later events wait behind it. A webhook that has
/// failed for the whole window is disabled.
///
/// Webhooks are delivered side by side, each one event at a time. The dispatcher wakes when an event
/// commits (`EventHub.observe`) or a retry falls due, and otherwise sleeps.
public final class WebhookDispatcher: Sendable {
    public let store: WebhookStore
    let events: EventLog
    let http: HTTPClient
    let policy: RetryPolicy
    let time: any TimeSource
    let logger: Logger
    /// Checks each webhook's address before it is called (the outbound policy); a refusal is a failed
    /// attempt with its reason.
    let checkTarget: @Sendable (String) -> String?

    private let signal = WakeSignal()
    private let inFlight = Mutex<Set<String>>([])
    private let stopped = Atomic<Bool>(false)
    /// Whether the last pass found an active webhook: with none, a commit does not wake the
    /// dispatcher (only `wake()` does), so a service without webhooks reads nothing per commit.
    private let hasActive = ActiveFlag()
    /// Events a webhook is given per turn before others get theirs.
    static let turnSize = 100

    public init(
        store: WebhookStore, events: EventLog, http: HTTPClient = .shared, policy: RetryPolicy = RetryPolicy(),
        time: any TimeSource = SystemTime(), logger: Logger,
        checkTarget: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        self.store = store
        self.events = events
        self.http = http
        self.policy = policy
        self.time = time
        self.logger = logger
        self.checkTarget = checkTarget
        let signal = self.signal
        let hasActive = self.hasActive
        events.hub.observe { _ in
            if hasActive.value.load(ordering: .relaxed) { signal.fire() }
        }
    }

    /// Asks for a pass now (a webhook was created, changed or replayed).
    public func wake() {
        hasActive.value.store(true, ordering: .relaxed)
        signal.fire()
    }

    public func stop() {
        stopped.store(true, ordering: .releasing)
        signal.fire()
    }

    /// Runs until `stop()`.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while !stopped.load(ordering: .acquiring) {
                var sleep = 5.0
                do {
                    let (targets, nextAt) = try store.due()
                    hasActive.value.store(!targets.isEmpty || nextAt != nil, ordering: .relaxed)
                    for target in targets where claim(target.id) {
                        group.addTask {
                            await self.serve(target)
                            self.release(target.id)
                            self.signal.fire()
                        }
                    }
                    if let nextAt {
                        let now = Int64(time.now.timeIntervalSince1970 * 1000)
                        sleep = min(sleep, max(0.01, Double(nextAt - now) / 1000))
                    }
                } catch {
                    logger.warning("webhook pass failed", ["error": "\(error)"])
                }
                await signal.wait(seconds: sleep)
            }
        }
    }

    private func claim(_ id: String) -> Bool {
        inFlight.withLock { $0.insert(id).inserted }
    }

    private func release(_ id: String) {
        _ = inFlight.withLock { $0.remove(id) }
    }

    /// Gives one webhook up to `turnSize` events in order; stops at the first failure.
    private func serve(_ claimed: WebhookStore.Target) async {
        // Read again now that this pass holds the webhook: the list may predate the last delivery.
        guard var target = try? store.current(claimed.id) else { return }
        let filter: EventFilter
        do {
            filter = try EventFilter(types: target.types.joined(separator: ","), audience: nil)
        } catch {
            logger.warning("webhook has unreadable types", ["webhookId": target.id])
            return
        }
        var page: EventLog.Page
        do {
            page = try events.page(after: target.cursor, filter: filter, limit: Self.turnSize)
        } catch let gone as EventLog.Gone {
            // Older events are no longer kept: go on from the oldest that is.
            try? store.skip(target, through: gone.oldestKept - 1)
            return
        } catch {
            logger.warning("webhook read failed", ["webhookId": target.id, "error": "\(error)"])
            return
        }
        for event in page.events {
            guard !stopped.load(ordering: .acquiring), await deliver(event, to: target) else { return }
            target.cursor = event.seq
            target.attempt = 0
            target.failingSince = nil
        }
        if !page.hasMore && page.scannedThrough > target.cursor {
            try? store.skip(target, through: page.scannedThrough)
        }
    }

    /// One attempt; `true` when the receiver took it.
    private func deliver(_ event: Event, to target: WebhookStore.Target) async -> Bool {
        let body = event.json
        let timestamp = Int(time.now.timeIntervalSince1970)
        let started = Monotonic.nanoseconds()
        var status: Int?
        var failure: String
        var retryAfter: TimeInterval?
        if let refusal = checkTarget(target.url) {
            failure = refusal
        } else {
            let request = ClientRequest(
                method: "POST", url: target.url,
                headers: [
                    ("Content-Type", "application/json"), ("User-Agent", "Concierge-Webhooks/1"),
                    ("webhook-id", event.id), ("webhook-timestamp", String(timestamp)),
                    (
                        "webhook-signature",
                        WebhookSignature.header(secrets: target.secrets, id: event.id, timestamp: timestamp, body: body)
                    ),
                ], body: body)
            do {
                let response = try await http.send(request, timeout: policy.timeout)
                status = response.status
                failure = "the receiver answered HTTP \(response.status)"
                retryAfter = response.header("retry-after").flatMap {
                    TimeInterval($0.trimmingCharacters(in: .whitespaces))
                }
            } catch {
                failure = "\(error)"
            }
        }
        let milliseconds = Int((Monotonic.nanoseconds() - started) / 1_000_000)
        let summary = (id: event.id, seq: event.seq, type: event.type)
        do {
            if let status, (200..<300).contains(status) {
                try store.delivered(target, event: summary, responseStatus: status, durationMs: milliseconds)
                return true
            }
            let now = time.now.timeIntervalSince1970
            let failingSince = target.failingSince.map { Double($0) / 1000 } ?? now
            if now - failingSince >= policy.window {
                let reason = "Every delivery failed for \(Self.describe(policy.window)); the last: \(failure)."
                try store.failed(
                    target, event: summary, responseStatus: status, error: failure, durationMs: milliseconds,
                    retryAt: nil, disabledReason: reason)
                logger.warning("webhook disabled", ["webhookId": target.id, "reason": reason])
            } else {
                let delay = policy.delay(afterAttempt: target.attempt + 1, retryAfter: retryAfter)
                try store.failed(
                    target, event: summary, responseStatus: status, error: failure, durationMs: milliseconds,
                    retryAt: Int64((now + delay) * 1000), disabledReason: nil)
            }
        } catch {
            logger.warning("webhook delivery not recorded", ["webhookId": target.id, "error": "\(error)"])
        }
        return false
    }

    static func describe(_ seconds: TimeInterval) -> String {
        seconds >= 3600 && seconds.truncatingRemainder(dividingBy: 3600) == 0
            ? "\(Int(seconds / 3600)) h" : "\(Int(seconds)) s"
    }
}

/// A flag shared with the hub's observer (an `Atomic` itself cannot be captured).
final class ActiveFlag: Sendable {
    let value = Atomic<Bool>(true)
}

/// Wakes one waiter now or the next one to wait (a pending fire is kept), else lets it sleep out
/// its time. Holds no thread while waiting.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Ends the current wait at its time; cancelled when a fire ends it first (no sleeper lingers).
        var timeout: Task<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func fire() {
        let (waiter, timeout) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            guard let waiter = state.waiter else {
                state.pending = true
                return (nil, nil)
            }
            state.waiter = nil
            defer { state.timeout = nil }
            return (waiter, state.timeout)
        }
        timeout?.cancel()
        waiter?.resume()
    }

    func wait(seconds: Double) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation: Int? = state.withLock { state in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume()
                return
            }
            let timeout = Task {
                guard (try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))) != nil else { return }
                let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard state.generation == generation, let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    state.timeout = nil
                    return waiter
                }
                waiter?.resume()
            }
            let stillWaiting = state.withLock { state in
                guard state.generation == generation, state.waiter != nil else { return false }
                state.timeout = timeout
                return true
            }
            if !stillWaiting { timeout.cancel() }
        }
    }
}
