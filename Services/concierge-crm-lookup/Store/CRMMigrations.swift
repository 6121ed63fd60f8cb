import Outbox
import Storage

/// The CRM-lookup database schema, in numbered forward-only steps.
enum CRMMigrations {
    static let all: [Migration] = [
        Migration(1, "customers, sources, lookup cache, outbox") { connection in
            // `record` is the customer's JSON as answered, so a lookup copies bytes instead of encoding.
            try connection.execute(
                """
                CREATE TABLE customers (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    email TEXT UNIQUE,
                    phone TEXT UNIQUE,
                    record BLOB NOT NULL
                ) STRICT;
                CREATE TABLE sources (
                    name TEXT PRIMARY KEY,
                    url_template TEXT NOT NULL,
                    headers BLOB NOT NULL,
                    timeout_ms INTEGER NOT NULL,
                    cache_ttl_seconds INTEGER NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE lookup_cache (
                    source TEXT NOT NULL,
                    key TEXT NOT NULL,
                    found INTEGER NOT NULL,
                    data BLOB,
                    fetched_at INTEGER NOT NULL,
                    PRIMARY KEY (source, key)
                ) STRICT, WITHOUT ROWID;
                """)
            try OutboxSchema.create(connection)
        },
        Migration(2, "outbox ordering per entity") { try OutboxSchema.addOrderingKey($0) },
    ]
}
