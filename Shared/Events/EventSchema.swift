import Storage

/// The table of a service's events: one row per event, written in the transaction of the change it
/// reports. Each service creates it in one of its own numbered migrations.
///
/// `seq` is `AUTOINCREMENT`: a rolled-back transaction takes no number (the counter lives in a table
/// of the same transaction) and a pruned number is never given again, even when every row is gone.
public enum EventSchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                audience TEXT,
                occurred_at INTEGER NOT NULL,
                data BLOB NOT NULL
            );
            CREATE INDEX events_audience ON events (audience, seq) WHERE audience IS NOT NULL;
            CREATE INDEX events_occurred ON events (occurred_at);
            """)
    }
}
