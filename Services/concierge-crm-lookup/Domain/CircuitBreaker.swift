import Foundation
import Synchronization

/// Per-source circuit breakers (SPEC §7): after 5 failures in a row a source is skipped for 30 s,
/// then one call is let through; a success closes it again.
///
/// Opening and closing are told to the outside (`source.breaker_opened`, `source.breaker_closed`),
/// once per transition: the outcomes that would make one are recorded by `SourceBreakers` inside a
/// write transaction with their event, every other outcome at once (`recordQuietly`). A failed trial
/// keeps an open breaker open — for another cool-down, but no new transition.
final class CircuitBreaker: Sendable {
    /// Failures in a row that open the breaker; default 5.
    let threshold: Int
    /// Seconds a source is skipped once open; default 30.
    let cooldown: Double

    /// How a call to a source went.
    enum Outcome: Sendable {
        case succeeded
        case failed
    }

    /// An opening or closing of one source's breaker.
    enum Transition: Equatable, Sendable {
        /// `failures` in a row opened it; calls are skipped until `until`.
        case opened(failures: Int, until: Date)
        case closed
    }

    private struct State {
        var failures = 0
        var openUntil: Date?
        var trialInFlight = false
    }

    private let states = Mutex<[String: State]>([:])

    init(threshold: Int = 5, cooldown: Double = 30) {
        self.threshold = threshold
        self.cooldown = cooldown
    }

    /// Whether a call to `source` may go out now (claims the single trial call when half open).
    func allow(_ source: String, now: Date = Date()) -> Bool {
        states.withLock { states in
            var state = states[source] ?? State()
            defer { states[source] = state }
            guard let until = state.openUntil else { return true }
            if now < until || state.trialInFlight { return false }
            state.trialInFlight = true
            return true
        }
    }

    /// Records `outcome` and returns the transition it made, if any.
    @discardableResult
    func record(_ outcome: Outcome, for source: String, now: Date = Date()) -> Transition? {
        states.withLock { states in
            Self.apply(outcome, to: &states[source], threshold: threshold, cooldown: cooldown, now: now)
        }
    }

    /// Records `outcome` unless it would open or close the breaker; then changes nothing and answers
    /// `false`, and the caller records it with its event.
    func recordQuietly(_ outcome: Outcome, for source: String, now: Date = Date()) -> Bool {
        states.withLock { states in
            var state = states[source]
            guard Self.apply(outcome, to: &state, threshold: threshold, cooldown: cooldown, now: now) == nil else {
                return false
            }
            states[source] = state
            return true
        }
    }

    /// Closes the breaker (its source was saved again, or deleted); `.closed` when it was open.
    @discardableResult
    func reset(_ source: String) -> Transition? { record(.succeeded, for: source) }

    /// `closed`, `open` or `half_open`, for `GET /v1/sources`.
    func describe(_ source: String, now: Date = Date()) -> String {
        states.withLock { states in
            guard let until = states[source]?.openUntil else { return "closed" }
            return now < until ? "open" : "half_open"
        }
    }

    /// `nil` state: closed with no failures counted (what a success leaves).
    private static func apply(
        _ outcome: Outcome, to state: inout State?, threshold: Int, cooldown: Double, now: Date
    ) -> Transition? {
        let wasOpen = state?.openUntil != nil
        switch outcome {
        case .succeeded:
            state = nil
            return wasOpen ? .closed : nil
        case .failed:
            var next = state ?? State()
            next.failures += 1
            next.trialInFlight = false
            if next.failures >= threshold { next.openUntil = now.addingTimeInterval(cooldown) }
            state = next
            guard !wasOpen, let until = next.openUntil else { return nil }
            return .opened(failures: next.failures, until: until)
        }
    }
}
