import ConciergeModels
import Events
import Outbox
import ServiceRuntime
import Storage

/// One of routing's write transactions, lent to the engine by `RoutingEngine.change`: the named
/// changes routing's state makes, each a statement or a few. The domain decides and calls these; it
/// never sees SQL or a connection.
///
/// A change's events (`RoutingEvent`) are written in this transaction, so they exist exactly when the
/// change committed, and are published live after the commit (`EventLog`). The decisions a change makes
/// are recorded as events when it ends (`recordDecisions`), after the events it records itself: an
/// agent's change is told before the assignments it caused, with the agent as it is after them.
struct RoutingTransaction {
    /// The writer's connection, inside the transaction (Store code only).
    let connection: Connection
    let events: EventLog
    private let decisions = DecisionEvents()

    init(connection: Connection, events: EventLog) {
        self.connection = connection
        self.events = events
    }

    /// Writes one of routing's events in this transaction.
    func record(_ event: RoutingEvent) throws {
        try events.record(connection, event)
    }

    /// Writes the `routing.decided` events of the decisions saved so far, in the order they were made.
    /// `RoutingEngine.change` calls it once the change's own work is done.
    func recordDecisions() throws {
        for event in decisions.events { try record(event) }
        decisions.events.removeAll()
    }

    func save(_ agent: AgentRecord) throws {
        try connection.run(
            """
            INSERT INTO agents (seq, id, name, email, role, active, availability, hero_inbox_id, cap_email, cap_messaging,
                cap_voice, cap_voicemail, last_assigned, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, role = excluded.role,
                active = excluded.active, availability = excluded.availability, hero_inbox_id = excluded.hero_inbox_id,
                cap_email = excluded.cap_email, cap_messaging = excluded.cap_messaging, cap_voice = excluded.cap_voice,
                cap_voicemail = excluded.cap_voicemail, last_assigned = excluded.last_assigned
            """,
            agent.seq, agent.id, agent.name, agent.email, agent.role.rawValue, agent.active,
            agent.availability.rawValue,
            agent.heroInboxID, agent.capacity.email, agent.capacity.messaging, agent.capacity.voice,
            agent.capacity.voicemail,
            agent.lastActivity, agent.createdAt)
    }

    func save(_ inbox: InboxRecord) throws {
        try connection.run(
            """
            INSERT INTO inboxes (seq, id, name, sender_name, signature, default_for, strategy, rr_pointer, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, sender_name = excluded.sender_name,
                signature = excluded.signature, default_for = excluded.default_for, strategy = excluded.strategy,
                rr_pointer = excluded.rr_pointer
            """,
            inbox.seq, inbox.id, inbox.name, inbox.senderName, inbox.signature,
            inbox.defaultFor.map(\.rawValue).joined(separator: ","), inbox.strategy.rawValue, inbox.pointer,
            inbox.createdAt)
    }

    func saveMembers(of inbox: InboxRecord) throws {
        try connection.run("DELETE FROM inbox_members WHERE inbox_id = ?", inbox.id)
        for (position, agentID) in inbox.memberIDs.enumerated() {
            try connection.run(
                "INSERT INTO inbox_members (inbox_id, agent_id, position) VALUES (?, ?, ?)", inbox.id, agentID, position
            )
        }
    }

    func savePointer(inboxID: String, pointer: String?) throws {
        try connection.run("UPDATE inboxes SET rr_pointer = ? WHERE id = ?", pointer, inboxID)
    }

    func saveLastActivity(agentID: String, version: Int64) throws {
        try connection.run("UPDATE agents SET last_assigned = ? WHERE id = ?", version, agentID)
    }

    func save(_ queue: QueueRecord, createdAt: String) throws {
        try connection.run(
            "INSERT INTO queues (seq, id, name, inbox_id, priority, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            queue.seq, queue.id, queue.name, queue.inboxID, queue.priority, createdAt)
    }

    func save(_ assignment: AssignmentRecord) throws {
        try connection.run(
            """
            INSERT OR REPLACE INTO assignments (conversation_id, channel, inbox_id, queue_id, agent_id, state, priority,
                waiting_since, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            assignment.conversationID, assignment.channel.rawValue, assignment.inboxID, assignment.queueID,
            assignment.agentID,
            assignment.state.rawValue, assignment.priority, assignment.waitingSince, assignment.version)
    }

    func deleteAssignment(_ conversationID: String) throws {
        try connection.run("DELETE FROM assignments WHERE conversation_id = ?", conversationID)
    }

    /// Records the latest decision for the conversation; when it answers a route request, with that
    /// request's message id, so a retry of the same request gets this answer.
    /// - Parameter isChange: whether it changed what routing holds, so is told as `routing.decided`
    ///   (false only for a release of a conversation routing did not hold).
    /// - Returns: the decision's JSON, which is also the answer to send and the event's data.
    @discardableResult
    func saveDecision(_ result: RouteResult, answering messageID: String? = nil, isChange: Bool = true) throws
        -> [UInt8]
    {
        let body = try JSONCoding.encode(result)
        let packed = StoredDecision.pack(body)
        try connection.run(
            "INSERT OR REPLACE INTO decisions (conversation_id, version, body, message_id) VALUES (?, ?, ?, ?)",
            result.conversationId, result.version, SQLValue.blob(packed), messageID)
        // The event stores the same packed bytes (`StoredDecision.unpack` reads them back).
        if isChange { decisions.events.append(.decided(result, json: body, packed: packed)) }
        return body
    }

    /// Records a decision made without the conversations service asking (draining, deactivation)
    /// and tells it through the outbox.
    func announce(_ result: RouteResult) throws {
        try saveDecision(result)
        try Outbox.enqueue(connection, .routingDecision(result))
    }

    /// Tells the contacts service (outbox) that a deactivated agent's hero customers go to its hero inbox.
    func handOverHeroCustomers(_ handover: AgentHeroHandover) throws {
        try Outbox.enqueue(connection, .agentDeactivation(handover))
    }

    /// The answer to an earlier route request for this message (`RoutingStore.routeRequest`), read on
    /// the writer's connection, whose cache holds the pages.
    func routeRequest(conversationID: String, messageID: String) throws -> RouteAnswer? {
        try RoutingStore.routeRequest(connection, conversationID: conversationID, messageID: messageID)
    }

    /// A workflow run paused for the customer's answer.
    func saveRun(conversationID: String, _ run: WorkflowRun) throws {
        try WorkflowStore.saveRun(connection, conversationID: conversationID, run)
    }

    func deleteRun(conversationID: String) throws {
        try WorkflowStore.deleteRun(connection, conversationID: conversationID)
    }
}

/// The `routing.decided` events of one change, held until the change's own events are written.
private final class DecisionEvents {
    var events: [RoutingEvent] = []
}

@available(*, unavailable) extension DecisionEvents: Sendable {}

extension EventLog {
    /// Records one of routing's events in the transaction open on `connection`.
    func record(_ connection: Connection, _ event: RoutingEvent) throws {
        var packed: [UInt8]?
        if case .decided(_, _, let stored) = event { packed = stored }
        try record(connection, event.type, data: try event.data(), audience: event.audience, storedAs: packed)
    }
}
