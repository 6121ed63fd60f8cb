import Events
import Outbox
import ServiceRuntime
import Storage
import Timers
import Webhooks

/// The routing database schema, in numbered forward-only steps.
enum RoutingMigrations {
    static let all: [Migration] = [
        Migration(1, "agents, inboxes, queues, assignments, decisions, outbox") { connection in
            try connection.execute(
                """
                CREATE TABLE agents (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    email TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    active INTEGER NOT NULL,
                    availability TEXT NOT NULL,
                    hero_inbox_id TEXT,
                    cap_email INTEGER NOT NULL,
                    cap_messaging INTEGER NOT NULL,
                    cap_voice INTEGER NOT NULL,
                    cap_voicemail INTEGER NOT NULL,
                    last_assigned INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE inboxes (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    sender_name TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    default_for TEXT NOT NULL,
                    strategy TEXT NOT NULL,
                    rr_pointer TEXT,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE inbox_members (
                    inbox_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (inbox_id, agent_id)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX inbox_members_agent ON inbox_members (agent_id, position);
                CREATE TABLE queues (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    inbox_id TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE assignments (
                    conversation_id TEXT PRIMARY KEY,
                    channel TEXT NOT NULL,
                    inbox_id TEXT,
                    queue_id TEXT,
                    agent_id TEXT,
                    state TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    waiting_since INTEGER NOT NULL,
                    version INTEGER NOT NULL
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE decisions (
                    conversation_id TEXT PRIMARY KEY,
                    version INTEGER NOT NULL,
                    body BLOB NOT NULL
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE route_requests (
                    conversation_id TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    body BLOB NOT NULL,
                    PRIMARY KEY (conversation_id, message_id)
                ) STRICT, WITHOUT ROWID;
                """)
            try OutboxSchema.create(connection)
        },
        Migration(2, "workflows and paused runs") { connection in
            try connection.execute(
                """
                CREATE TABLE workflows (
                    version INTEGER PRIMARY KEY,
                    document BLOB NOT NULL,
                    created_at TEXT NOT NULL
                ) STRICT;
                CREATE TABLE workflow_runs (
                    conversation_id TEXT PRIMARY KEY,
                    run BLOB NOT NULL,
                    updated_at TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                """)
        },
        Migration(3, "outbox ordering per conversation") { try OutboxSchema.addOrderingKey($0) },
        Migration(4, "route answers kept with their decision") { connection in
            // A retried route request is answered from the decision it made (one row, not two).
            try connection.execute(
                """
                ALTER TABLE decisions ADD COLUMN message_id TEXT;
                DROP TABLE route_requests;
                """)
        },
        Migration(5, "decisions appended in a rowid table") { connection in
            // Decisions carry a trace of ~2 KB. In a WITHOUT ROWID table keyed by a random conversation id
            // every insert split a random leaf full of such rows (measured: ~5 KB of pages written and read per
            // decision; see BENCHMARKS.md); appended by rowid they fill pages in order, and only a small index
            // is random.
            try connection.execute(
                """
                CREATE TABLE decisions_by_seq (
                    seq INTEGER PRIMARY KEY,
                    conversation_id TEXT NOT NULL UNIQUE,
                    version INTEGER NOT NULL,
                    message_id TEXT,
                    body BLOB NOT NULL
                ) STRICT;
                INSERT INTO decisions_by_seq (conversation_id, version, message_id, body)
                    SELECT conversation_id, version, message_id, body FROM decisions ORDER BY version;
                DROP TABLE decisions;
                ALTER TABLE decisions_by_seq RENAME TO decisions;
                CREATE INDEX decisions_version ON decisions (version);
                """)
        },
        Migration(6, "no index on decisions' version") { connection in
            // Read once at start-up (the highest version), and a leaf of it was written by every commit:
            // a decision is appended by `seq` in the order versions are given, so the last row has it.
            try connection.execute("DROP INDEX decisions_version")
        },
        Migration(7, "outbox entries store their kind of call") { try OutboxSchema.addKind($0) },
        Migration(8, "the events table: what this service tells the outside") { try EventSchema.create($0) },
        Migration(9, "webhooks and their delivery log") { try WebhookSchema.create($0) },
        Migration(10, "answers kept for Idempotency-Key") { try IdempotencySchema.create($0) },
        Migration(11, "timers: what must happen at a moment") { try TimerSchema.create($0) },
    ]
}
