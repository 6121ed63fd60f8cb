import ConciergeCore
import ConciergeLogging
import Foundation
import Storage
import Synchronization

/// Fires a service's timers (`Timers`), one scheduler per service, with a handler per kind.
///
/// It sleeps until the earliest timer is due — or a timer committed meanwhile is earlier, or a minute
/// has passed — then fires what is due, earliest first. Each timer fires in a write transaction of its
/// own that deletes it and runs its handler, so a fired timer's effects and its removal commit
/// together: at least once across a crash, never again after the commit. Timers that fell due while
/// the service was down fire at its first pass. A handler that throws is undone (a savepoint), logged,
/// and its timer tried again after the next retry delay; the others go on firing meanwhile.
///
/// Time is an input: under `ManualTime`, moving time wakes the scheduler (`AlarmTimeSource`), and a
/// test may also fire what is due itself (`fireDue`), so no test sleeps until a timer is due.
public final class TimerScheduler: Sendable {
    /// What runs when a timer of one kind fires: inside the write transaction open on the connection,
    /// which also deletes the timer. It may change rows, record events, enqueue outbox calls and set
    /// follow-up timers (`timers`, even of the same kind and key); throwing undoes all of it. It runs
    /// holding the service's one writer, so it only reads and writes: calls on other services go
    /// through the outbox, never inline.
    public typealias Handler = @Sendable (Connection, ScheduledTimer) throws -> Void

    /// The timers this scheduler fires: stores set and cancel them through it, which wakes the
    /// scheduler when a timer earlier than its sleep commits.
    public let timers: Timers
    private let db: Database
    private let time: any AlarmTimeSource
    private let logger: Logger
    private let metrics: Metrics?
    private let retryDelays: [TimeInterval]
    private let handlers = Mutex<[String: KindHandler]>([:])

    /// The longest the scheduler sleeps without looking again (wall-clock jumps, a dropped wake-up).
    static let longestSleep: TimeInterval = 60
    /// Timers read per query of a pass.
    static let batchSize = 100
    /// Batches one `fireDue` fires at most before it lets the loop look at `stop` (a handler that
    /// keeps setting itself due at once would otherwise hold the pass forever).
    static let batchesPerPass = 10

    /// - Parameters:
    ///   - time: what the scheduler reads the time from and sleeps on; `ManualTime` in tests.
    ///   - retryDelays: seconds before a failed timer is tried again, after the 1st, 2nd, … failure in
    ///     a row (the last repeats); default 1 s, 5 s, 30 s, 2 min, 10 min.
    ///   - metrics: where `concierge_timers_scheduled` (a gauge by kind) and
    ///     `concierge_timers_fired_total` / `concierge_timers_failed_total` (by kind) are reported.
    public init(
        db: Database, time: any AlarmTimeSource = SystemTime(), retryDelays: [TimeInterval] = [1, 5, 30, 120, 600],
        logger: Logger, metrics: Metrics? = nil
    ) {
        self.db = db
        self.time = time
        self.logger = logger
        self.metrics = metrics
        self.retryDelays = retryDelays.isEmpty ? [1] : retryDelays
        timers = Timers(alarm: TimerAlarm())
        guard let metrics else { return }
        metrics.gauge("concierge_timers_scheduled", help: "Timers set and not yet fired, by kind.") {
            let counts = (try? db.read { try Timers.counts($0) }) ?? []
            return counts.map { (labels: Metrics.render([("kind", $0.kind)]), value: Double($0.count)) }
        }
        metrics.declare(Self.fired.name, help: Self.fired.help, labelSets: [])
        metrics.declare(Self.failed.name, help: Self.failed.help, labelSets: [])
    }

    private static let fired = (name: "concierge_timers_fired_total", help: "Timers fired, by kind.")
    private static let failed = (
        name: "concierge_timers_failed_total", help: "Timer handlers that failed (retried later), by kind."
    )

    /// Registers what runs when a timer of `kind` fires (before `run`). A due timer of a kind with no
    /// handler counts as failed and waits for the retry delay.
    public func handle(_ kind: String, _ handler: @escaping Handler) {
        let box = KindHandler(handler)
        handlers.withLock { $0[kind] = box }
        metrics?.declare(Self.fired.name, help: Self.fired.help, labelSets: [[("kind", kind)]])
        metrics?.declare(Self.failed.name, help: Self.failed.help, labelSets: [[("kind", kind)]])
    }

    /// Fires every timer due now, earliest first, each in its own transaction; returns when the next
    /// one is due (nil: none is set). The loop of `run` calls it; a test may call it after moving time.
    /// - Throws: a storage failure outside any handler (the pass stops; `run` tries again later).
    @discardableResult
    public func fireDue() throws -> Date? {
        for _ in 0..<Self.batchesPerPass {
            let now = Self.floor(time.now)
            let due = try db.read { connection in
                try connection.query(
                    "SELECT kind, key FROM timers WHERE next_at <= ? ORDER BY next_at, due_at, kind, key LIMIT ?",
                    [now, Self.batchSize]
                ) { (kind: $0.string(0), key: $0.string(1)) }
            }
            for timer in due { try fire(kind: timer.kind, key: timer.key, now: now) }
            if due.count < Self.batchSize { break }
        }
        let next = try db.read { try $0.first("SELECT min(next_at) FROM timers") { $0.isNull(0) ? nil : $0.int64(0) } }
        return (next ?? nil).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// Fires due timers until `stop()`; the first pass fires what fell due while the service was down.
    public func run() async {
        var failedPasses = 0
        while !timers.alarm.isStopped {
            var wakeAt = time.now.addingTimeInterval(Self.longestSleep)
            do {
                if let next = try fireDue() { wakeAt = min(wakeAt, next) }
                failedPasses = 0
            } catch {
                failedPasses += 1
                let delay = retryDelay(afterFailure: failedPasses)
                logger.error("timer pass failed", ["error": "\(error)", "retryInSeconds": "\(delay)"])
                wakeAt = time.now.addingTimeInterval(delay)
            }
            await timers.alarm.sleep(until: wakeAt, time: time)
        }
    }

    /// Ends `run` at its next wake-up, which comes at once; a pass under way finishes first.
    public func stop() {
        timers.alarm.stop()
    }

    /// Whether `run` has finished a pass and sleeps (for tests).
    public var isSleeping: Bool { timers.alarm.isSleeping }

    private enum Outcome {
        case fired
        case failed(any Error, attempt: Int, retryAt: Int64)
        /// Cancelled, rescheduled later or fired by another pass since it was read.
        case gone
    }

    private func fire(kind: String, key: String, now: Int64) throws {
        let handler = handlers.withLock { $0[kind] }
        let outcome: Outcome = try db.write { connection in
            guard
                let timer = try connection.first(
                    "SELECT kind, key, due_at, payload, attempts FROM timers WHERE kind = ? AND key = ? AND next_at <= ?",
                    [kind, key, now], Timers.timer)
            else { return .gone }
            do {
                try connection.savepoint {
                    try connection.run("DELETE FROM timers WHERE kind = ? AND key = ?", kind, key)
                    guard let handler else { throw NoHandler(kind: kind) }
                    try handler.run(connection, timer)
                }
                return .fired
            } catch {
                // SQLite ends the whole transaction itself after some errors (a full disk): nothing
                // more can be written in it, so the pass stops and the timer stays as it was.
                guard connection.isInTransaction else { throw error }
                let attempt = timer.attempts + 1
                let retryAt = now + Int64(retryDelay(afterFailure: attempt) * 1000)
                try connection.run(
                    "UPDATE timers SET attempts = ?, next_at = ? WHERE kind = ? AND key = ?", attempt, retryAt, kind,
                    key)
                return .failed(error, attempt: attempt, retryAt: retryAt)
            }
        }
        switch outcome {
        case .fired:
            metrics?.increment(Self.fired.name, labels: [("kind", kind)])
        case .failed(let error, let attempt, let retryAt):
            metrics?.increment(Self.failed.name, labels: [("kind", kind)])
            logger.warning(
                "timer failed",
                [
                    "kind": kind, "key": key, "attempt": "\(attempt)",
                    "retryInSeconds": "\(Double(retryAt - now) / 1000)",
                    "error": "\(error)",
                ])
        case .gone:
            break
        }
    }

    private func retryDelay(afterFailure count: Int) -> TimeInterval {
        retryDelays[min(max(count, 1), retryDelays.count) - 1]
    }

    /// `date` in ms since the epoch, rounded down: what is due by now.
    private static func floor(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// A handler in a class: closures kept directly in a `Mutex` are re-wrapped on every read.
    private final class KindHandler: Sendable {
        let run: Handler
        init(_ run: @escaping Handler) { self.run = run }
    }

    /// A due timer whose kind has no handler (registered after `run` began, or by a newer version).
    struct NoHandler: Error, CustomStringConvertible {
        let kind: String
        var description: String { "no handler for timers of kind \(kind)" }
    }
}
