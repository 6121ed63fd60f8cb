import Foundation
import Synchronization

/// Wall-clock time as the code reads it, injected wherever time decides something — a breaker's
/// cool-down, a timer's deadline — so that tests own time instead of sleeping through it.
/// Durations measured by the process itself use `Monotonic`.
public protocol TimeSource: Sendable {
    /// Now, as stamped on what is stored and compared with stored times.
    var now: Date { get }
}

/// A `TimeSource` that can also call back at a moment of its own time: what a sleeper (the timer
/// scheduler) waits on, so that under `ManualTime` it wakes when a test moves time, not by sleeping.
public protocol AlarmTimeSource: TimeSource {
    /// Calls `action` once, when `now` has reached `deadline` (at once if it already has), on a thread
    /// of the time source's choosing. Keep it short: a manual clock runs it on the advancing thread.
    func alarm(at deadline: Date, _ action: @escaping @Sendable () -> Void)
}

/// The system's clock, as the process reads it (`WallClock`: the system's time, plus the offset a
/// service under test may be moved by).
public struct SystemTime: AlarmTimeSource {
    public init() {}
    public var now: Date { WallClock.now }

    /// Called back after the time left until `deadline`, measured on the monotonic clock from now, or
    /// when `WallClock.advance` reaches it: a caller that must follow jumps of the system's clock asks
    /// again after a while (the timer scheduler wakes at least once a minute).
    public func alarm(at deadline: Date, _ action: @escaping @Sendable () -> Void) {
        WallClock.alarm(at: deadline, action)
    }
}

/// A clock that moves only when told to (for tests). Alarms set on it run when `advance` reaches them.
public final class ManualTime: AlarmTimeSource {
    /// An alarm in a class: closures kept directly in a `Mutex` are re-wrapped on every read.
    private final class Alarm: Sendable {
        let deadline: Date
        let action: @Sendable () -> Void
        init(_ deadline: Date, _ action: @escaping @Sendable () -> Void) {
            self.deadline = deadline
            self.action = action
        }
    }

    private struct State {
        var now: Date
        var alarms: [Alarm] = []
    }

    private let state: Mutex<State>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { state = Mutex(State(now: start)) }

    public var now: Date { state.withLock { $0.now } }

    /// Moves time forward, then runs the alarms it reached, earliest first, on this thread.
    public func advance(by seconds: TimeInterval) {
        let due = state.withLock { state -> [Alarm] in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.alarms.filter { $0.deadline <= now }
            state.alarms.removeAll { $0.deadline <= now }
            return due.sorted { $0.deadline < $1.deadline }
        }
        for alarm in due { alarm.action() }
    }

    public func alarm(at deadline: Date, _ action: @escaping @Sendable () -> Void) {
        let reached = state.withLock { state -> Bool in
            guard deadline > state.now else { return true }
            state.alarms.append(Alarm(deadline, action))
            return false
        }
        if reached { action() }
    }
}
