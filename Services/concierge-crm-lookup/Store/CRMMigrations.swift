import Events
import Outbox
import ServiceRuntime
import Storage
import Timers
import Webhooks

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
        Migration(3, "customers' email and phone indexes named, so a bulk import can build them last") { connection in
            // Inline UNIQUE constraints make indexes that cannot be dropped; the table is rebuilt without them.
            try connection.execute(
                """
                CREATE TABLE customers_rebuilt (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    email TEXT,
                    phone TEXT,
                    record BLOB NOT NULL
                ) STRICT;
                INSERT INTO customers_rebuilt (seq, id, email, phone, record) SELECT seq, id, email, phone, record FROM customers;
                DROP TABLE customers;
                ALTER TABLE customers_rebuilt RENAME TO customers;
                """)
            try connection.execute(createKeyIndexes)
        },
        Migration(4, "outbox entries store their kind of call") { try OutboxSchema.addKind($0) },
        Migration(5, "the events table: what this service tells the outside") { try EventSchema.create($0) },
        Migration(6, "webhooks and their delivery log") { try WebhookSchema.create($0) },
        Migration(7, "answers kept for Idempotency-Key") { try IdempotencySchema.create($0) },
        Migration(8, "timers: what must happen at a moment") { try TimerSchema.create($0) },
    ]

    /// The unique indexes that keep one customer per email and per phone. An import into an empty
    /// directory drops them and runs this once its rows are in (`ImportWriter`).
    static let createKeyIndexes = """
        CREATE UNIQUE INDEX customers_email ON customers (email);
        CREATE UNIQUE INDEX customers_phone ON customers (phone);
        """
    static let dropKeyIndexes = "DROP INDEX customers_email; DROP INDEX customers_phone;"
}
