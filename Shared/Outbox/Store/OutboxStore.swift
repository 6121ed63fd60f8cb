import ConciergeModels
import Storage

/// Every statement the outbox runs on its tables (`OutboxSchema`), each on a connection the caller
/// holds: the writer's inside a transaction, or a reader's.
enum OutboxStore {
    typealias Entry = Outbox.Entry

    static func insert(
        _ connection: Connection, _ call: OutboxCall, id: String, requestID: String?, due: Int64, now: Int64
    ) throws {
        try connection.run(
            """
            INSERT INTO outbox (id, kind, target, method, path, body, request_id, next_attempt_at, created_at, ordering_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            id, call.kind.rawValue, call.target, call.method, call.path, SQLValue.blob(call.body), requestID, due, now,
            call.key)
    }

    /// Entries waiting per target, and the age of the oldest in seconds.
    static func depth(_ connection: Connection, now: Int64) throws -> [(
        target: String, count: Int, oldestSeconds: Double
    )] {
        try connection.query("SELECT target, count(*), min(created_at) FROM outbox GROUP BY target ORDER BY target") {
            (target: $0.string(0), count: $0.int(1), oldestSeconds: Double(now - $0.int64(2)) / 1000)
        }
    }

    /// The entry, and how many earlier entries of its group (target and key) still wait.
    static func entryAndEarlier(_ connection: Connection, id: String) throws -> (entry: Entry, earlier: Int)? {
        guard let entry = try connection.first(selectSQL + " WHERE id = ?", [id], entry) else { return nil }
        let earlier = try connection.scalarInt(
            "SELECT count(*) FROM outbox WHERE target = ? AND ordering_key IS ? AND seq < ?",
            [entry.target, entry.key, entry.seq])
        return (entry, earlier ?? 0)
    }

    /// Up to 200 due entries in order, or none and when the first waiting one will be due. An entry is
    /// not due while an earlier one of its group (target and key) waits out its backoff.
    ///
    /// A backlog — a receiver down for a while — is mostly entries waiting out long backoffs. Walking
    /// the table in `seq` order to find the due ones then read every waiting entry, after every commit
    /// that woke the dispatcher (`Benchmarks/routing.sh`; BENCHMARKS.md, "Routing decisions": "the outbox
    /// rescanned its backlog"); so the due ones are first counted on `outbox_due`, and when there are few
    /// they are found through it.
    static func due(_ connection: Connection, now: Int64) throws -> (entries: [Entry], next: Int64?) {
        let dueCount =
            try connection.scalarInt(
                "SELECT count(*) FROM (SELECT 1 FROM outbox INDEXED BY outbox_due WHERE next_attempt_at <= ? LIMIT 1000)",
                [now]) ?? 0
        guard dueCount > 0 else {
            let next = try connection.first("SELECT min(next_attempt_at) FROM outbox") { $0.optionalInt(0) } ?? nil
            return ([], next.map(Int64.init))
        }
        // Many due: the walk in `seq` order meets 200 of them early. Few: found through the index, sorted.
        let entries = try connection.query(dueCount < 1000 ? fewDueSQL : manyDueSQL, [now, now], entry)
        return (entries, nil)
    }

    /// Removes a settled entry; false if it was gone already (settled by a concurrent attempt).
    static func delete(_ connection: Connection, id: String) throws -> Bool {
        try connection.run("DELETE FROM outbox WHERE id = ?", id) == 1
    }

    /// Keeps a call its receiver refused as invalid for operators, out of the delivery order.
    static func moveToDeadLetters(_ connection: Connection, id: String, status: Int, reason: String, now: Int64) throws
    {
        try connection.run(
            """
            INSERT OR REPLACE INTO outbox_dead (id, target, method, path, body, status, error, created_at, failed_at)
            SELECT id, target, method, path, body, ?, ?, created_at, ? FROM outbox WHERE id = ?
            """, status, reason, now, id)
        _ = try delete(connection, id: id)
    }

    /// Records a failed attempt and when to try again.
    static func postpone(_ connection: Connection, id: String, attempts: Int, until: Int64, error: String) throws {
        try connection.run(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?", attempts, until, error,
            id)
    }

    private static let selectSQL =
        "SELECT seq, id, kind, target, method, path, body, request_id, attempts, ordering_key FROM outbox"

    private static let dueSQL =
        " WHERE next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox AS earlier"
        + " WHERE earlier.target = outbox.target AND earlier.ordering_key IS outbox.ordering_key"
        + " AND earlier.seq < outbox.seq AND earlier.next_attempt_at > ?) ORDER BY seq LIMIT 200"
    private static let manyDueSQL = selectSQL + dueSQL
    private static let fewDueSQL = selectSQL + " INDEXED BY outbox_due" + dueSQL

    private static func entry(_ row: Row) -> Entry {
        Entry(
            seq: row.int64(0), id: row.string(1), kind: OutboxCall.Kind(rawValue: row.string(2)), target: row.string(3),
            method: row.string(4), path: row.string(5), body: row.bytes(6), requestID: row.optionalString(7),
            attempts: row.int(8),
            key: row.optionalString(9))
    }
}
