import ConciergeModels
import Foundation
import Outbox
import ServiceRuntime
import Storage

extension ConversationStore {
    /// What one inbound message became.
    struct Recorded: Sendable {
        var contactID: String
        var conversationID: String?
        var messageID: String?
        var created: Bool
        var routeEntry: String?
        /// The (channel, externalId) was seen before: this is the first attempt's result.
        var replayed = false
    }

    func inboundKey(channel: Channel, externalID: String) throws -> Recorded? {
        try db.read { connection in try Self.inboundKey(connection, channel: channel, externalID: externalID) }
    }

    static func inboundKey(_ connection: Connection, channel: Channel, externalID: String) throws -> Recorded? {
        try connection.first(
            "SELECT contact_id, conversation_id, message_id, created FROM inbound_keys WHERE channel = ? AND external_id = ?",
            [channel.rawValue, externalID]
        ) {
            Recorded(
                contactID: $0.string(0), conversationID: $0.optionalString(1), messageID: $0.optionalString(2),
                created: $0.bool(3), routeEntry: nil, replayed: true)
        }
    }

    /// A blocked contact's message: kept in the audit table only (SPEC §4 step 2).
    func recordDropped(_ input: InboundRequest, contact: Contact, externalID: String?) throws -> InboundPipeline.Outcome
    {
        try write { tx in
            let connection = tx.connection
            if let externalID, try Self.inboundKey(connection, channel: input.channel, externalID: externalID) == nil {
                try connection.run(
                    "INSERT INTO inbound_keys (channel, external_id, contact_id, created) VALUES (?, ?, ?, 0)",
                    input.channel.rawValue, externalID, contact.id)
            }
            try connection.run(
                """
                INSERT INTO dropped_messages (contact_id, channel, sender, subject, body, external_id, reason, received_at)
                VALUES (?, ?, ?, ?, ?, ?, 'contact_blocked', ?)
                """, contact.id, input.channel.rawValue, input.from, input.subject, input.body, externalID,
                Timestamp.now())
        }
        return InboundPipeline.Outcome(
            result: InboundResult(
                conversationId: nil, messageId: nil, contactId: contact.id, status: nil, inboxId: nil, assigneeId: nil,
                queueId: nil,
                routingState: nil, spam: false, dropped: true, reason: "contact_blocked", replies: []),
            created: false)
    }

    /// Threads and stores the message, and writes its routing request, in one transaction: the state
    /// the rules need is read here, `InboundPlan` decides, and the plan is applied.
    /// - Parameter judgedSpam: the filter judged the message spam: the conversation goes to spam, unrouted.
    /// - Parameter settleWithin: seconds the caller takes to deliver the route request itself.
    func recordInbound(
        _ input: InboundRequest, contact: Contact, externalID: String?, judgedSpam: Bool, settleWithin: Double
    ) async throws -> Recorded {
        // Through the group writer: messages arriving together share one transaction.
        try await writeShared { tx in
            let connection = tx.connection
            if let externalID,
                let earlier = try Self.inboundKey(connection, channel: input.channel, externalID: externalID)
            {
                return earlier
            }
            let contactID = try Self.survivor(connection, contact.id)
            if contactID == contact.id { try Self.saveSnapshot(tx, contact) }
            let plan = InboundPlan(
                input, contact: contact, contactID: contactID,
                existing: try Self.thread(connection, input, contactID: contactID),
                judgedSpam: judgedSpam, now: Timestamp.now(), makeID: { Identifier.make() })
            let routeEntry = try Self.apply(tx, plan, heldFor: settleWithin)
            if let externalID {
                try connection.run(
                    """
                    INSERT INTO inbound_keys (channel, external_id, contact_id, conversation_id, message_id, created)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, input.channel.rawValue, externalID, contactID, plan.conversationID, plan.message.id,
                    plan.isNewConversation)
            }
            return Recorded(
                contactID: contactID, conversationID: plan.conversationID, messageID: plan.message.id,
                created: plan.isNewConversation, routeEntry: routeEntry)
        }
    }

    /// Writes what `plan` decided; returns the route request's outbox entry, if one was written.
    static func apply(_ tx: ConversationTransaction, _ plan: InboundPlan, heldFor: Double) throws -> String? {
        let connection = tx.connection
        let now = plan.message.createdAt
        var before: Conversation?
        switch plan.thread {
        case .create(let conversation):
            try connection.run(
                """
                INSERT INTO conversations (id, contact_id, channel, routing_state, status, subject, subject_lower, created_at,
                    updated_at, address) VALUES (?, ?, ?, 'pending', 'waiting', ?, ?, ?, ?, ?)
                """, conversation.id, conversation.contactId, conversation.channel.rawValue, conversation.subject,
                conversation.subject?.lowercased(), now, now, plan.address)
            if let subject = conversation.subject {
                try connection.run(
                    "INSERT INTO conversation_subjects (rowid, subject_lower) VALUES (?, ?)",
                    connection.lastInsertRowID,
                    subject.lowercased())
            }
        case .reopen(let id), .append(let id):
            before = try conversation(connection, id)
            try connection.run(
                """
                UPDATE conversations SET status = 'waiting', closed_at = NULL, updated_at = ?, address = ? WHERE id = ?
                """, now, plan.address, id)
        }
        if plan.spam {
            try connection.run(
                "UPDATE conversations SET spam = 1, routing_state = 'none', queue_id = NULL, updated_at = ? WHERE id = ?",
                now,
                plan.conversationID)
        }
        if plan.releaseFromRouting { try tx.enqueue(.release(plan.conversationID)) }
        try insert(tx, plan.message, replyTo: nil)
        let entry = try plan.route.map { try enqueueRoute(tx, $0, heldFor: heldFor) }
        try recordInboundEvents(tx, plan, before: before)
        return entry
    }

    /// The events of an inbound message: the conversation created, reopened or waiting again, made
    /// spam, and the message itself.
    private static func recordInboundEvents(_ tx: ConversationTransaction, _ plan: InboundPlan, before: Conversation?)
        throws
    {
        let after = try conversation(tx.connection, plan.conversationID)
        if let before {
            if before.status != after.status {
                try tx.record(.statusChanged, after, previous: [("previousStatus", before.status.rawValue)])
            }
            if after.spam && !before.spam { try tx.record(.spam, after) }
        } else {
            try tx.record(.created, after)
            if after.spam { try tx.record(.spam, after) }
        }
        try tx.recordInbound(plan.message, in: after, from: plan.address)
    }

    /// Keeps the contact's emails and tags here for smart-folder rules (`contact.email`, `contact.tag`),
    /// unless a newer snapshot arrived from the contacts service already.
    static func saveSnapshot(_ tx: ConversationTransaction, _ contact: Contact) throws {
        let connection = tx.connection
        let stored = try connection.first("SELECT updated_at FROM contact_snapshots WHERE contact_id = ?", [contact.id])
        { $0.string(0) }
        if let stored, stored >= contact.updatedAt { return }
        try connection.run(
            "INSERT OR REPLACE INTO contact_snapshots (contact_id, updated_at) VALUES (?, ?)", contact.id,
            contact.updatedAt)
        try connection.run("DELETE FROM contact_emails WHERE contact_id = ?", contact.id)
        try connection.run("DELETE FROM contact_tags WHERE contact_id = ?", contact.id)
        for email in Set(contact.emails.map { $0.lowercased() }) {
            try connection.run(
                "INSERT INTO contact_emails (email, contact_id, reversed) VALUES (?, ?, ?)", email, contact.id,
                FolderQuery.reversed(email))
        }
        for tag in Set(contact.tags.map { $0.lowercased() }) {
            try connection.run("INSERT INTO contact_tags (tag, contact_id) VALUES (?, ?)", tag, contact.id)
        }
    }

    /// The given conversation if it is this contact's (even closed); else the newest non-closed one
    /// on the channel; else none.
    private static func thread(_ connection: Connection, _ input: InboundRequest, contactID: String) throws
        -> Conversation?
    {
        if let id = input.conversationId,
            let given = try connection.first("SELECT \(columns) FROM conversations WHERE id = ?", [id], decode),
            try survivor(connection, given.contactId) == contactID, !given.spam
        {
            return given
        }
        return try connection.first(
            """
            SELECT \(columns) FROM conversations WHERE contact_id = ? AND channel = ? AND status != 'closed' AND spam = 0
            ORDER BY seq DESC LIMIT 1
            """, [contactID, input.channel.rawValue], decode)
    }
}
