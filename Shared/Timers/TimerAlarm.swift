import ConciergeCore
import Foundation
import Synchronization

/// Where the scheduler sleeps between passes: until the moment it asks for (an alarm of its time
/// source), a committed timer earlier than that (`noteDue`), or `stop`. Holds no thread while it
/// waits. A timer committed while no one sleeps (the scheduler is in a pass) is remembered, so the
/// next sleep does not outlast it.
final class TimerAlarm: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        /// The moment the current sleep ends at (ms), while one is under way.
        var deadline: Int64?
        /// The earliest moment noted since the last sleep began.
        var noted: Int64?
        /// Tells a late alarm from the one of the current sleep.
        var generation = 0
        var stopped = false
    }

    private let state = Mutex(State())

    /// A timer due at `dueAt` (ms) committed: wakes the sleeper if that is before it meant to wake.
    func noteDue(_ dueAt: Int64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.noted = min(state.noted ?? dueAt, dueAt)
                return nil
            }
            guard let deadline = state.deadline, dueAt < deadline else { return nil }
            state.waiter = nil
            state.deadline = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Ends the current sleep and every later one at once.
    func stop() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Whether a sleep is under way (for tests: the scheduler has finished its pass).
    var isSleeping: Bool { state.withLock { $0.waiter != nil } }

    /// Sleeps until `deadline` as `time` reads it, or until woken (see the type).
    func sleep(until deadline: Date, time: any AlarmTimeSource) async {
        let end = ScheduledTimer.milliseconds(deadline)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation: Int? = state.withLock { state in
                defer { state.noted = nil }
                if state.stopped { return nil }
                if let noted = state.noted, noted < end { return nil }
                state.generation += 1
                state.waiter = continuation
                state.deadline = end
                return state.generation
            }
            guard let generation else {
                continuation.resume()
                return
            }
            time.alarm(at: deadline) { self.ring(generation) }
        }
    }

    private func ring(_ generation: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.deadline = nil
            return waiter
        }
        waiter?.resume()
    }
}
