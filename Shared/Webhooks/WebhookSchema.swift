import Storage

/// Tables of a service's webhooks and of their delivery log. Each service creates them in one of its
/// own numbered migrations.
///
/// A webhook's deliveries are its `cursor`: the `seq` of the last event it has been given (or that it
/// does not want). Advancing it is the commit of a delivery, so what is owed survives restarts and
/// SIGKILL, and is sent in order: the events after the cursor that the webhook wants.
public enum WebhookSchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE webhooks (
                id TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                types TEXT NOT NULL,
                description TEXT,
                status TEXT NOT NULL,
                disabled_reason TEXT,
                secret TEXT NOT NULL,
                previous_secret TEXT,
                previous_secret_until INTEGER,
                cursor INTEGER NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 0,
                failing_since INTEGER,
                next_attempt_at INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE webhook_deliveries (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                webhook_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                event_seq INTEGER NOT NULL,
                type TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                status TEXT NOT NULL,
                response_status INTEGER,
                error TEXT,
                duration_ms INTEGER,
                attempted_at INTEGER NOT NULL,
                next_attempt_at INTEGER
            );
            CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
            CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (attempted_at);
            """)
    }
}
