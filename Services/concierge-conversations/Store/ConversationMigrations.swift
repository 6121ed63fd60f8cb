import Events
import Outbox
import ServiceRuntime
import Storage
import Timers
import Webhooks

/// The conversations database schema, in numbered forward-only steps.
enum ConversationMigrations {
    static let all: [Migration] = [
        Migration(1, "conversations, messages, inbound keys, audit, merges, outbox") { connection in
            try connection.execute(
                """
                CREATE TABLE conversations (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    contact_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    inbox_id TEXT,
                    assignee_id TEXT,
                    queue_id TEXT,
                    routing_state TEXT NOT NULL,
                    routing_version INTEGER NOT NULL DEFAULT 0,
                    status TEXT NOT NULL,
                    subject TEXT,
                    tags TEXT NOT NULL DEFAULT '',
                    spam INTEGER NOT NULL DEFAULT 0,
                    replied INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    closed_at TEXT,
                    first_response_at TEXT
                ) STRICT;
                CREATE INDEX conversations_thread ON conversations (contact_id, channel, status, seq);
                CREATE INDEX conversations_assignee ON conversations (assignee_id, spam, seq);
                CREATE INDEX conversations_inbox ON conversations (inbox_id, spam, seq);
                CREATE INDEX conversations_status ON conversations (status, spam, seq);
                CREATE INDEX conversations_created ON conversations (created_at);
                CREATE TABLE conversation_tags (
                    tag TEXT NOT NULL,
                    conversation_seq INTEGER NOT NULL,
                    PRIMARY KEY (tag, conversation_seq)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX conversation_tags_conversation ON conversation_tags (conversation_seq);
                CREATE TABLE messages (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    conversation_id TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    author_type TEXT NOT NULL,
                    author_id TEXT,
                    body TEXT NOT NULL,
                    sender_name TEXT,
                    signature TEXT,
                    reply_to TEXT,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX messages_conversation ON messages (conversation_id, seq);
                CREATE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;
                CREATE TABLE inbound_keys (
                    channel TEXT NOT NULL,
                    external_id TEXT NOT NULL,
                    contact_id TEXT NOT NULL,
                    conversation_id TEXT,
                    message_id TEXT,
                    created INTEGER NOT NULL,
                    PRIMARY KEY (channel, external_id)
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE dropped_messages (
                    seq INTEGER PRIMARY KEY,
                    contact_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    subject TEXT,
                    body TEXT NOT NULL,
                    external_id TEXT,
                    reason TEXT NOT NULL,
                    received_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE contact_merges (
                    source_id TEXT PRIMARY KEY,
                    target_id TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE inbox_snapshots (
                    id TEXT PRIMARY KEY,
                    sender_name TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    fetched_at TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                """)
            try OutboxSchema.create(connection)
        },
        Migration(2, "spam filter, smart folders, contact snapshots") { connection in
            try connection.execute(
                """
                ALTER TABLE messages ADD COLUMN trained TEXT;
                CREATE TABLE spam_tokens (
                    token TEXT PRIMARY KEY,
                    spam INTEGER NOT NULL DEFAULT 0,
                    ham INTEGER NOT NULL DEFAULT 0
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE spam_documents (
                    class TEXT PRIMARY KEY,
                    documents INTEGER NOT NULL,
                    tokens INTEGER NOT NULL
                ) STRICT, WITHOUT ROWID;
                INSERT INTO spam_documents (class, documents, tokens) VALUES ('spam', 0, 0), ('ham', 0, 0);
                CREATE TABLE folders (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    rule BLOB NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE contact_emails (
                    email TEXT NOT NULL,
                    contact_id TEXT NOT NULL,
                    PRIMARY KEY (email, contact_id)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX contact_emails_contact ON contact_emails (contact_id);
                CREATE TABLE contact_tags (
                    tag TEXT NOT NULL,
                    contact_id TEXT NOT NULL,
                    PRIMARY KEY (tag, contact_id)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX contact_tags_contact ON contact_tags (contact_id);
                CREATE TABLE contact_snapshots (
                    contact_id TEXT PRIMARY KEY,
                    updated_at TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                """)
        },
        Migration(3, "lower-cased subjects for case-insensitive folder rules beyond ASCII") { connection in
            // SQLite's lower() folds ASCII only; new rows get Swift's Unicode lower-casing.
            try connection.execute(
                """
                ALTER TABLE conversations ADD COLUMN subject_lower TEXT;
                UPDATE conversations SET subject_lower = lower(subject);
                """)
        },
        Migration(4, "outbox ordering per conversation") { try OutboxSchema.addOrderingKey($0) },
        Migration(5, "contact emails reversed, so folder rules on an email's ending walk an index") { connection in
            // `contact.email endsWith "@domain"` (SPEC §6's example) is a prefix of the reversed email.
            try connection.execute("ALTER TABLE contact_emails ADD COLUMN reversed TEXT NOT NULL DEFAULT ''")
            let emails = try connection.query("SELECT email, contact_id FROM contact_emails") {
                ($0.string(0), $0.string(1))
            }
            for (email, contactID) in emails {
                try connection.run(
                    "UPDATE contact_emails SET reversed = ? WHERE email = ? AND contact_id = ?",
                    FolderQuery.reversed(email),
                    email, contactID)
            }
            try connection.execute("CREATE INDEX contact_emails_reversed ON contact_emails (reversed)")
        },
        Migration(6, "conversation subjects indexed by trigrams, for folder rules on rare words") { connection in
            // External content: the text stays in `conversations.subject_lower` (a subject never changes once
            // set, and conversations are never deleted, so an insert is the only upkeep: `recordInbound`).
            try connection.execute(
                """
                CREATE VIRTUAL TABLE conversation_subjects USING fts5(
                    subject_lower, content='conversations', content_rowid='seq', tokenize='trigram', detail='none');
                INSERT INTO conversation_subjects (conversation_subjects) VALUES ('rebuild');
                """)
        },
        Migration(7, "outbox entries store their kind of call") { try OutboxSchema.addKind($0) },
        Migration(8, "stored tag lists escape % inside a tag") { connection in
            // Tags are now a ListCoding list (`%` inside a tag written %25, so no tag can pass for a
            // boundary); lists written before held U+001F only as boundaries.
            try connection.execute(
                "UPDATE conversations SET tags = replace(tags, '%', '%25') WHERE instr(tags, '%') > 0")
        },
        Migration(9, "the events table: what this service tells the outside") { try EventSchema.create($0) },
        Migration(10, "where replies go, and what became of each outbound message") { connection in
            // Outbound messages written before this step have no delivery (they were never offered to
            // a connector); those written after start `pending`.
            try connection.execute(
                """
                ALTER TABLE conversations ADD COLUMN address TEXT;
                ALTER TABLE messages ADD COLUMN delivery_status TEXT;
                ALTER TABLE messages ADD COLUMN delivery_external_id TEXT;
                ALTER TABLE messages ADD COLUMN delivery_error TEXT;
                ALTER TABLE messages ADD COLUMN delivery_updated_at TEXT;
                """)
        },
        Migration(11, "webhooks and their delivery log") { try WebhookSchema.create($0) },
        Migration(12, "answers kept for Idempotency-Key") { try IdempotencySchema.create($0) },
        Migration(13, "timers: what must happen at a moment") { try TimerSchema.create($0) },
    ]
}
