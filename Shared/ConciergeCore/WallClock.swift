import Foundation
import Synchronization

/// The process's wall clock as Concierge reads it: the system's clock, moved forward by an offset that
/// is zero in production. Only a service started with `CONCIERGE_TEST_CLOCK=true` lets an
/// administrator move it (`POST /v1/admin/clock`), so that tests of timers measured in hours — an SLA
/// breach, a calendar opening — run the production code paths in seconds without sleeping.
///
/// Everything that stamps or compares wall-clock time reads it here: `Timestamp.now()`,
/// `SystemTime().now` and so every injected `TimeSource` of a running service. Alarms set on
/// `SystemTime` are kept here too, so moving the clock rings those it reached at once.
public enum WallClock {
    private static let offsetMilliseconds = Atomic<Int64>(0)

    /// How far the clock is ahead of the system's, in seconds (0 unless a test moved it).
    public static var offset: TimeInterval { Double(offsetMilliseconds.load(ordering: .relaxed)) / 1000 }

    /// Now: the system's time plus the offset.
    public static var now: Date { Date().addingTimeInterval(offset) }

    /// Now in milliseconds since the epoch, read as `clock_gettime` reads it (the cheap path of
    /// `Timestamp.now()`).
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec / 1_000_000)
            + offsetMilliseconds.load(ordering: .relaxed)
    }

    /// Moves the clock forward by `seconds` (never back: stored times stay in order), then rings the
    /// alarms it reached, earliest first, on this thread.
    public static func advance(by seconds: TimeInterval) {
        precondition(seconds >= 0, "the wall clock only moves forward")
        offsetMilliseconds.add(Int64((seconds * 1000).rounded()), ordering: .relaxed)
        alarms.ringReached(by: now)
    }

    /// Calls `action` once when the clock reaches `deadline`: after the time left on the system's clock,
    /// or at once when `advance` reaches it first.
    static func alarm(at deadline: Date, _ action: @escaping @Sendable () -> Void) {
        let seconds = deadline.timeIntervalSince(now)
        guard seconds > 0 else { return action() }
        let id = alarms.add(deadline, action)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { alarms.ring(id) }
    }

    private static let alarms = Alarms()

    /// Alarms not yet rung: each rings once, by its timer on the system's clock or by `advance`.
    private final class Alarms: Sendable {
        private final class Alarm: Sendable {
            let deadline: Date
            let action: @Sendable () -> Void
            init(_ deadline: Date, _ action: @escaping @Sendable () -> Void) {
                self.deadline = deadline
                self.action = action
            }
        }

        private let pending = Mutex<(next: UInt64, byID: [UInt64: Alarm])>((0, [:]))

        func add(_ deadline: Date, _ action: @escaping @Sendable () -> Void) -> UInt64 {
            pending.withLock { state in
                state.next &+= 1
                state.byID[state.next] = Alarm(deadline, action)
                return state.next
            }
        }

        func ring(_ id: UInt64) {
            pending.withLock { $0.byID.removeValue(forKey: id) }?.action()
        }

        func ringReached(by now: Date) {
            let reached = pending.withLock { state -> [Alarm] in
                let ids = state.byID.filter { $0.value.deadline <= now }.map(\.key)
                return ids.compactMap { state.byID.removeValue(forKey: $0) }
            }
            for alarm in reached.sorted(by: { $0.deadline < $1.deadline }) { alarm.action() }
        }
    }
}
