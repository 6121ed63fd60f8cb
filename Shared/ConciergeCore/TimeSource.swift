import Foundation
import Synchronization

/// Wall-clock time as the code reads it, injected wherever time decides something — a breaker's
/// cool-down, a timer's deadline — so that tests own time instead of sleeping through it.
/// Durations measured by the process itself use `Monotonic`.
public protocol TimeSource: Sendable {
    /// Now, as stamped on what is stored and compared with stored times.
    var now: Date { get }
}

/// The system's clock.
public struct SystemTime: TimeSource {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that moves only when told to (for tests).
public final class ManualTime: TimeSource {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    public var now: Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
