import Foundation
import Synchronization

/// Per-source circuit breakers (SPEC §7): after 5 failures in a row a source is skipped for 30 s,
/// then one call is let through; a success closes it again.
final class CircuitBreaker: Sendable {
    /// Failures in a row that open the breaker; default 5.
    let threshold: Int
    /// Seconds a source is skipped once open; default 30.
    let cooldown: Double

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

    func succeeded(_ source: String) {
        _ = states.withLock { $0.removeValue(forKey: source) }
    }

    func failed(_ source: String, now: Date = Date()) {
        states.withLock { states in
            var state = states[source] ?? State()
            state.failures += 1
            state.trialInFlight = false
            if state.failures >= threshold { state.openUntil = now.addingTimeInterval(cooldown) }
            states[source] = state
        }
    }

    func reset(_ source: String) { succeeded(source) }

    /// `closed`, `open` or `half_open`, for `GET /v1/sources`.
    func describe(_ source: String, now: Date = Date()) -> String {
        states.withLock { states in
            guard let until = states[source]?.openUntil else { return "closed" }
            return now < until ? "open" : "half_open"
        }
    }
}
