import Events
import Outbox
import ServiceRuntime
import Storage
import Timers
import Webhooks

/// The contacts database schema, in numbered forward-only steps.
enum ContactMigrations {
    static let all: [Migration] = [
        Migration(1, "contacts, identities, tags, outbox") { connection in
            // Lists are stored as text joined by U+001F (U+001E between a handle's channel and value,
            // or an attribute's key and value): one row read gives a whole contact.
            try connection.execute(
                """
                CREATE TABLE contacts (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    emails TEXT NOT NULL DEFAULT '',
                    phones TEXT NOT NULL DEFAULT '',
                    handles TEXT NOT NULL DEFAULT '',
                    tags TEXT NOT NULL DEFAULT '',
                    attributes TEXT NOT NULL DEFAULT '',
                    blocked INTEGER NOT NULL DEFAULT 0,
                    hero_type TEXT,
                    hero_id TEXT,
                    merged_into TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX contacts_hero ON contacts (hero_type, hero_id) WHERE hero_id IS NOT NULL;
                CREATE TABLE identities (
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    contact_seq INTEGER NOT NULL REFERENCES contacts (seq),
                    PRIMARY KEY (kind, value)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX identities_contact ON identities (contact_seq);
                CREATE TABLE contact_tags (
                    tag TEXT NOT NULL,
                    contact_seq INTEGER NOT NULL REFERENCES contacts (seq),
                    PRIMARY KEY (tag, contact_seq)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX contact_tags_contact ON contact_tags (contact_seq);
                """)
            try OutboxSchema.create(connection)
        },
        Migration(2, "outbox ordering per entity") { try OutboxSchema.addOrderingKey($0) },
        Migration(3, "names lower-cased for search beyond ASCII") { connection in
            // SQLite's lower() folds ASCII only, so `q` could never match "Ørsted" by "ørsted": names are
            // kept lower-cased by Swift beside the original, and searched there.
            try connection.execute("ALTER TABLE contacts ADD COLUMN name_folded TEXT NOT NULL DEFAULT ''")
            let names = try connection.query("SELECT seq, name FROM contacts WHERE name <> ''") {
                ($0.int64(0), $0.string(1))
            }
            for (seq, name) in names {
                try connection.run(
                    "UPDATE contacts SET name_folded = ? WHERE seq = ?", ContactStore.searchFolded(name), seq)
            }
        },
        Migration(4, "outbox entries store their kind of call") { try OutboxSchema.addKind($0) },
        Migration(5, "stored lists escape % inside values") { connection in
            // ListCoding now writes `%`, U+001E and U+001F inside a value as %25, %1E, %1F, so that no value
            // can pass for a boundary. Rows written before held separators only as boundaries: escaping
            // their `%` is the whole conversion.
            try connection.execute(
                """
                UPDATE contacts SET emails = replace(emails, '%', '%25'), phones = replace(phones, '%', '%25'),
                    handles = replace(handles, '%', '%25'), tags = replace(tags, '%', '%25'),
                    attributes = replace(attributes, '%', '%25')
                WHERE instr(emails || phones || handles || tags || attributes, '%') > 0
                """)
        },
        Migration(6, "the events table: what this service tells the outside") { try EventSchema.create($0) },
        Migration(7, "webhooks and their delivery log") { try WebhookSchema.create($0) },
        Migration(8, "answers kept for Idempotency-Key") { try IdempotencySchema.create($0) },
        Migration(9, "timers: what must happen at a moment") { try TimerSchema.create($0) },
    ]
}
