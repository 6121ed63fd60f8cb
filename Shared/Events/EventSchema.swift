import Storage

/// The table of a service's events: one row per event, written in the transaction of the change it
/// reports. Each service creates it in one of its own numbered migrations.
///
/// `seq` is the rowid, one more than the highest in the table: a rolled-back transaction takes no
/// number, and since pruning always keeps the newest event (`EventLog.prune`), a number is never given
/// twice. (`AUTOINCREMENT` would promise the same with one more B-tree write per event.) Pruning walks
/// `seq` from the oldest, so `occurred_at` needs no index.
public enum EventSchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE events (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                audience TEXT,
                occurred_at INTEGER NOT NULL,
                data BLOB NOT NULL
            );
            CREATE INDEX events_audience ON events (audience, seq) WHERE audience IS NOT NULL;
            """)
    }
}
