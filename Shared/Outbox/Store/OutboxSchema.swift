import Glibc
import Storage

/// Tables of the durable outbox and of the receiving side's dedupe log. Each service creates them
/// in one of its own numbered migrations.
public enum OutboxSchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                target TEXT NOT NULL,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                body BLOB NOT NULL,
                request_id TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                last_error TEXT,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX outbox_due ON outbox (next_attempt_at, seq);
            CREATE TABLE outbox_dead (
                id TEXT PRIMARY KEY,
                target TEXT NOT NULL,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                body BLOB NOT NULL,
                status INTEGER NOT NULL,
                error TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                failed_at INTEGER NOT NULL
            );
            CREATE TABLE received_messages (
                id TEXT PRIMARY KEY,
                received_at INTEGER NOT NULL
            );
            """)
    }
}

extension OutboxSchema {
    /// Entries are ordered per (target, key) — e.g. per conversation — instead of per target, so one
    /// conversation's pending call never holds up another's. A later migration of each service.
    public static func addOrderingKey(_ connection: Connection) throws {
        try connection.execute(
            """
            ALTER TABLE outbox ADD COLUMN ordering_key TEXT;
            CREATE INDEX outbox_ordering ON outbox (target, ordering_key, seq);
            """)
    }
}

extension OutboxSchema {
    /// Each entry stores what kind of call it is, so answers are applied by kind, not by matching its
    /// URL. Entries written before this step get theirs from their path. A later migration of each
    /// service.
    public static func addKind(_ connection: Connection) throws {
        try connection.execute(
            """
            ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
            UPDATE outbox SET kind = CASE
                WHEN path = '/v1/route' THEN 'route'
                WHEN path LIKE '/v1/assignments/%/assign' THEN 'assign'
                WHEN path LIKE '/v1/assignments/%/release' THEN 'release'
                WHEN path LIKE '/v1/contacts/%/block' THEN 'block'
                WHEN path = '/v1/internal/hero-replacements' THEN 'hero-replacement'
                WHEN path = '/v1/internal/contact-merges' THEN 'contact-merge'
                WHEN path = '/v1/internal/contact-snapshots' THEN 'contact-snapshot'
                WHEN path = '/v1/internal/routing-decisions' THEN 'routing-decision'
                WHEN path = '/v1/internal/agent-deactivations' THEN 'agent-deactivation'
                ELSE '' END;
            """)
    }
}

/// The receiving side of at-least-once delivery: an entry id is acted on once.
public enum Idempotency {
    /// Records `id` in the current write transaction; `false` if it was already processed.
    public static func firstDelivery(_ connection: Connection, id: String) throws -> Bool {
        try connection.run(
            "INSERT OR IGNORE INTO received_messages (id, received_at) VALUES (?, ?)", id, OutboxClock.milliseconds())
            == 1
    }
}

enum OutboxClock {
    static func milliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec / 1_000_000)
    }
}
