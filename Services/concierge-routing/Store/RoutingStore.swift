import ConciergeModels
import Events
import Storage

/// Every line of routing's SQL. The engine calls the write helpers inside its own `db.write`, so a
/// decision, its outbox notices, its idempotency record and its events commit together.
struct RoutingStore: Sendable {
    let db: Database
    /// Routing's events, written by `RoutingTransaction` in the transaction of the change they report.
    let events: EventLog

    init(db: Database, events: EventLog) {
        self.db = db
        self.events = events
        // A decision's event keeps the decision as the decisions table does: packed.
        events.store("routing.decided", unpackingWith: StoredDecision.unpack)
    }

    // MARK: - Loading at start-up

    struct Snapshot {
        var agents: [AgentRecord] = []
        var inboxes: [InboxRecord] = []
        var queues: [QueueRecord] = []
        var assignments: [AssignmentRecord] = []
        var version: Int64 = 0
    }

    func load() throws -> Snapshot {
        try db.read { connection in
            var snapshot = Snapshot()
            var members: [String: [String]] = [:]
            var agentInboxes: [String: [String]] = [:]
            try connection.forEach("SELECT inbox_id, agent_id FROM inbox_members ORDER BY position") { row in
                members[row.string(0), default: []].append(row.string(1))
            }
            try connection.forEach(
                "SELECT m.agent_id, m.inbox_id FROM inbox_members m JOIN inboxes i ON i.id = m.inbox_id ORDER BY m.position"
            ) { row in agentInboxes[row.string(0), default: []].append(row.string(1)) }
            snapshot.agents = try connection.query(
                """
                SELECT seq, id, name, email, role, active, availability, hero_inbox_id, cap_email, cap_messaging, cap_voice,
                    cap_voicemail, last_assigned, created_at FROM agents ORDER BY seq
                """
            ) { row in
                AgentRecord(
                    seq: row.int64(0), id: row.string(1), name: row.string(2), email: row.string(3),
                    role: Role(rawValue: row.string(4)) ?? .agent, active: row.bool(5),
                    availability: Availability(rawValue: row.string(6)) ?? .offline,
                    inboxIDs: agentInboxes[row.string(1)] ?? [], heroInboxID: row.optionalString(7),
                    capacity: ChannelCounts(
                        email: row.int(8), messaging: row.int(9), voice: row.int(10), voicemail: row.int(11)),
                    load: ChannelCounts(), lastActivity: row.int64(12), createdAt: row.string(13))
            }
            snapshot.inboxes = try connection.query(
                "SELECT seq, id, name, sender_name, signature, default_for, strategy, rr_pointer, created_at FROM inboxes ORDER BY seq"
            ) { row in
                InboxRecord(
                    seq: row.int64(0), id: row.string(1), name: row.string(2), senderName: row.string(3),
                    signature: row.string(4),
                    defaultFor: row.string(5).split(separator: ",").compactMap { Channel(rawValue: String($0)) },
                    strategy: Strategy(rawValue: row.string(6)) ?? .roundRobin, memberIDs: members[row.string(1)] ?? [],
                    pointer: row.optionalString(7), createdAt: row.string(8))
            }
            snapshot.queues = try connection.query("SELECT seq, id, name, inbox_id, priority FROM queues ORDER BY seq")
            { row in
                QueueRecord(
                    seq: row.int64(0), id: row.string(1), name: row.string(2), inboxID: row.string(3),
                    priority: row.int(4))
            }
            snapshot.assignments = try connection.query(
                """
                SELECT conversation_id, channel, inbox_id, queue_id, agent_id, state, priority, waiting_since, version
                FROM assignments ORDER BY waiting_since
                """
            ) { row in
                AssignmentRecord(
                    conversationID: row.string(0), channel: Channel(rawValue: row.string(1)) ?? .email,
                    inboxID: row.optionalString(2),
                    queueID: row.optionalString(3), agentID: row.optionalString(4),
                    state: AssignmentRecord.State(rawValue: row.string(5)) ?? .queued, priority: row.int(6),
                    waitingSince: row.int64(7), version: row.int64(8))
            }
            // Decisions are appended in the order they were made, so the last by `seq` holds their
            // highest version (no index on `version`: it cost a page per commit).
            snapshot.version = Int64(
                try connection.scalarInt(
                    """
                    SELECT max(v) FROM (
                        SELECT (SELECT version FROM decisions ORDER BY seq DESC LIMIT 1) AS v
                        UNION ALL SELECT max(version) FROM assignments UNION ALL SELECT max(last_assigned) FROM agents)
                    """) ?? 0)
            return snapshot
        }
    }

    // MARK: - Reads

    func decision(_ conversationID: String) throws -> RouteResult? {
        let body = try db.read { connection in
            try connection.first("SELECT body FROM decisions WHERE conversation_id = ?", [conversationID]) {
                $0.bytes(0)
            }
        }
        return try body.map { try JSONCoding.decode(RouteResult.self, from: try Self.unpack($0)) }
    }

    /// The answer to an earlier route request for this message, if it is still the latest decision
    /// (a later one — a drain, a transfer — means the request's effect happened and was followed up).
    func routeRequest(conversationID: String, messageID: String) throws -> RouteAnswer? {
        try db.read { try Self.routeRequest($0, conversationID: conversationID, messageID: messageID) }
    }

    /// `routeRequest` on a given connection — the writer's, inside the transaction that would
    /// otherwise make the decision: its pages are in that connection's cache, where a reader's
    /// cache starts empty after every commit (SQLite drops it when the WAL changed).
    static func routeRequest(_ connection: Connection, conversationID: String, messageID: String) throws -> RouteAnswer?
    {
        let body = try connection.first(
            "SELECT body FROM decisions WHERE conversation_id = ? AND message_id = ?", [conversationID, messageID]
        ) { $0.bytes(0) }
        return try body.map { stored in
            let json = try unpack(stored)
            return RouteAnswer(result: try JSONCoding.decode(RouteResult.self, from: json), json: json)
        }
    }

    private static func unpack(_ stored: [UInt8]) throws -> [UInt8] {
        guard let json = StoredDecision.unpack(stored) else {
            throw SQLiteError(code: SQLiteError.corrupt, message: "a stored decision is damaged")
        }
        return json
    }
}

/// A route request's answer with its JSON, encoded once: the bytes stored are the bytes sent.
struct RouteAnswer: Sendable {
    let result: RouteResult
    let json: [UInt8]
}
