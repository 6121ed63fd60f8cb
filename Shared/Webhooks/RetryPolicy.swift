import Foundation

/// When a failed delivery is tried again, and for how long: after about 5 s, 30 s, 2 min, 10 min,
/// 30 min, 1 h, then every 2 h, until the webhook has failed for `window` (24 h), when the service
/// disables it. A receiver's `Retry-After` (seconds) replaces the scheduled delay, within 2 h.
public struct RetryPolicy: Sendable, Equatable {
    public static let standardDelays: [TimeInterval] = [5, 30, 120, 600, 1800, 3600, 7200]

    /// Delay before retry n (1-based); the last repeats.
    public var delays: [TimeInterval]
    /// How long a webhook may fail before it is disabled.
    public var window: TimeInterval
    /// Seconds an attempt may take before it counts as failed.
    public var timeout: TimeInterval

    public init(delays: [TimeInterval] = standardDelays, window: TimeInterval = 24 * 3600, timeout: TimeInterval = 10) {
        self.delays = delays.isEmpty ? Self.standardDelays : delays
        self.window = window
        self.timeout = timeout
    }

    /// The delay after the `attempt`-th failure in a row (1-based), or what the receiver asked for.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter, retryAfter >= 0 { return min(retryAfter, 7200) }
        return delays[min(max(attempt, 1), delays.count) - 1]
    }
}
