import Storage

/// The table of a service's timers: one row per pending timer, written in the transaction of the
/// change that set it. Each service creates it in one of its own numbered migrations.
///
/// `(kind, key)` is the primary key, so scheduling again replaces the timer. `due_at` is the moment
/// the timer is for (ms since the epoch), `next_at` when it is next tried: the same until its handler
/// fails, then later by the retry delay; the scheduler walks `next_at`. `attempts` counts failures.
/// `payload` is NULL when empty (SQLite binds an empty blob as NULL).
public enum TimerSchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE timers (
                kind TEXT NOT NULL,
                key TEXT NOT NULL,
                due_at INTEGER NOT NULL,
                next_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                payload BLOB,
                PRIMARY KEY (kind, key)
            ) WITHOUT ROWID;
            CREATE INDEX timers_next_at ON timers (next_at);
            """)
    }
}
