import Foundation
import Storage

/// Sets and cancels a service's timers inside the caller's write transaction, so a timer exists
/// exactly when the change that set it committed. Once that transaction commits, the scheduler that
/// made this value (`TimerScheduler.timers`) learns of a new earlier moment and wakes for it; a
/// rollback (or the rolled-back savepoint that set it) leaves no timer and no wake-up.
///
/// A store keeps one and passes it the connection of its typed transaction:
/// `try timers.schedule(tx.connection, kind: "sla.breach", key: id + "/firstReply", at: deadline)`.
public struct Timers: Sendable {
    let alarm: TimerAlarm

    /// Timers nobody waits for (a store tested without a scheduler); a scheduler makes its own.
    public init() { alarm = TimerAlarm() }

    init(alarm: TimerAlarm) { self.alarm = alarm }

    /// Sets the timer `(kind, key)` to fire at `date`, replacing one of the same kind and key (its
    /// moment, payload and failed attempts). A moment already past fires at the scheduler's next pass.
    public func schedule(_ connection: Connection, kind: String, key: String, at date: Date, payload: [UInt8] = [])
        throws
    {
        let dueAt = ScheduledTimer.milliseconds(date)
        try connection.run(
            """
            INSERT INTO timers (kind, key, due_at, next_at, attempts, payload) VALUES (?, ?, ?, ?, 0, ?)
            ON CONFLICT (kind, key) DO UPDATE SET
                due_at = excluded.due_at, next_at = excluded.next_at, attempts = 0, payload = excluded.payload
            """,
            kind, key, dueAt, dueAt, SQLValue.blob(payload))
        let alarm = self.alarm
        connection.afterCommit { alarm.noteDue(dueAt) }
    }

    /// Removes the timer `(kind, key)`; returns whether there was one.
    @discardableResult
    public func cancel(_ connection: Connection, kind: String, key: String) throws -> Bool {
        try connection.run("DELETE FROM timers WHERE kind = ? AND key = ?", kind, key) > 0
    }

    /// The timer `(kind, key)`, if one is set.
    public func find(_ connection: Connection, kind: String, key: String) throws -> ScheduledTimer? {
        try connection.first(
            "SELECT kind, key, due_at, payload, attempts FROM timers WHERE kind = ? AND key = ?", [kind, key],
            Self.timer)
    }

    /// How many timers are set, by kind (for the `concierge_timers_scheduled` gauge).
    public static func counts(_ connection: Connection) throws -> [(kind: String, count: Int)] {
        try connection.query("SELECT kind, count(*) FROM timers GROUP BY kind ORDER BY kind") {
            (kind: $0.string(0), count: $0.int(1))
        }
    }

    static func timer(_ row: Row) -> ScheduledTimer {
        ScheduledTimer(
            kind: row.string(0), key: row.string(1), dueAt: row.int64(2), payload: row.bytes(3),
            attempts: row.int(4))
    }
}
