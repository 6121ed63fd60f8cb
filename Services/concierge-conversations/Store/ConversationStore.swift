import ConciergeModels
import Events
import Foundation
import Outbox
import ServiceRuntime
import Storage

/// The conversations service's SQL: conversations, messages, tags, spam training, routing's answers.
struct ConversationStore: Sendable {
    let db: Database
    /// Group commit for the inbound path.
    let writer: GroupWriter
    /// The spam filter, loaded from the stored counts; trained here after each commit that trains it.
    let spamFilter: SpamFilter
    /// The service's events, recorded by every write that changes a conversation or a message.
    let events: EventLog

    init(db: Database, writer: GroupWriter, events: EventLog) throws {
        self.db = db
        self.writer = writer
        self.events = events
        spamFilter = SpamFilter(model: try db.read { try Self.spamModel($0) })
    }

    static let columns = """
        seq, id, contact_id, channel, inbox_id, assignee_id, queue_id, routing_state, status, subject, tags, spam,
        created_at, updated_at, closed_at, first_response_at
        """

    static func decode(_ row: Row) -> Conversation {
        Conversation(
            id: row.string(1), contactId: row.string(2), channel: Channel(rawValue: row.string(3)) ?? .email,
            inboxId: row.optionalString(4), assigneeId: row.optionalString(5), queueId: row.optionalString(6),
            routingState: RoutingState(rawValue: row.string(7)) ?? .none,
            status: ConversationStatus(rawValue: row.string(8)) ?? .waiting, subject: row.optionalString(9),
            tags: ListCoding.values(row.string(10)), spam: row.bool(11), createdAt: row.string(12),
            updatedAt: row.string(13),
            closedAt: row.optionalString(14), firstResponseAt: row.optionalString(15))
    }

    // MARK: - Reads

    func conversation(_ id: String) throws -> Conversation {
        try db.read { connection in try Self.conversation(connection, id) }
    }

    static func conversation(_ connection: Connection, _ id: String) throws -> Conversation {
        guard let conversation = try connection.first("SELECT \(columns) FROM conversations WHERE id = ?", [id], decode)
        else {
            throw ConversationError.notFound(id)
        }
        return conversation
    }

    struct Filters {
        var status: ConversationStatus?
        var inboxID: String?
        var assigneeID: String?
        var contactID: String?
        var tag: String?
        var channel: Channel?
        var spam = false
    }

    /// Newest first, paged by `seq`; spam only when asked for (and then only spam).
    func list(_ filters: Filters, limit: Int, before cursor: Int64?) throws -> Page<Conversation> {
        var conditions = SQLConditions("spam = ?", filters.spam)
        if let status = filters.status { conditions.add("status = ?", status.rawValue) }
        if let inbox = filters.inboxID { conditions.add("inbox_id = ?", inbox) }
        if let assignee = filters.assigneeID { conditions.add("assignee_id = ?", assignee) }
        if let contact = filters.contactID {
            // Conversations of contacts merged into this one are listed under it.
            conditions.add(
                "contact_id IN (SELECT ? UNION SELECT source_id FROM contact_merges WHERE target_id = ?)", contact,
                contact)
        }
        if let tag = filters.tag {
            conditions.add("seq IN (SELECT conversation_seq FROM conversation_tags WHERE tag = ?)", tag.lowercased())
        }
        if let channel = filters.channel { conditions.add("channel = ?", channel.rawValue) }
        if let cursor { conditions.add("seq < ?", cursor) }
        let sql = "SELECT \(Self.columns) FROM conversations WHERE \(conditions.sql) ORDER BY seq DESC LIMIT ?"
        let values = conditions.values + [limit + 1]
        let rows = try db.read { connection in try connection.query(sql, values) { (Self.decode($0), $0.int64(0)) } }
        return Page(rows: rows, limit: limit)
    }

    /// Messages oldest first, paged by `seq`.
    func messages(_ conversationID: String, limit: Int, after cursor: Int64?) throws -> Page<Message> {
        let rows = try db.read { connection in
            try connection.query(
                """
                SELECT \(Self.messageColumns) FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?
                """, [conversationID, cursor ?? 0, limit + 1]
            ) { (Self.message($0), $0.int64(0)) }
        }
        return Page(rows: rows, limit: limit)
    }

    static let messageColumns = """
        seq, id, conversation_id, direction, author_type, author_id, body, sender_name, signature, created_at,
        delivery_status, delivery_external_id, delivery_error, delivery_updated_at
        """

    static func message(_ row: Row) -> Message {
        Message(
            id: row.string(1), conversationId: row.string(2),
            direction: Message.Direction(rawValue: row.string(3)) ?? .inbound,
            author: MessageAuthor(
                type: MessageAuthor.Kind(rawValue: row.string(4)) ?? .contact, id: row.optionalString(5)),
            body: row.string(6), senderName: row.optionalString(7), signature: row.optionalString(8),
            delivery: row.optionalString(10).flatMap(MessageDelivery.Status.init(rawValue:)).map {
                MessageDelivery(
                    status: $0, externalId: row.optionalString(11), error: row.optionalString(12),
                    updatedAt: row.optionalString(13))
            },
            createdAt: row.string(9))
    }

    /// The address the customer last wrote from, where replies go (`nil` for conversations older
    /// than the column).
    static func address(_ connection: Connection, conversationID: String) throws -> String? {
        try connection.first("SELECT address FROM conversations WHERE id = ?", [conversationID]) {
            $0.optionalString(0)
        } ?? nil
    }

    /// Automation messages sent in answer to one inbound message.
    static func replies(_ connection: Connection, to messageID: String) throws -> [Reply] {
        try connection.query("SELECT body FROM messages WHERE reply_to = ? ORDER BY seq", [messageID]) {
            Reply(body: $0.string(0))
        }
    }

    /// A conversation and the automation replies to one of its messages, read together.
    func conversationWithReplies(_ id: String, replyTo messageID: String) throws -> (Conversation, [Reply]) {
        try db.read { connection in (try Self.conversation(connection, id), try Self.replies(connection, to: messageID))
        }
    }

    /// Open (non-closed), non-spam conversations of a contact, including contacts merged into it.
    static func openConversations(_ connection: Connection, contactID: String) throws -> [Conversation] {
        try connection.query(
            """
            SELECT \(Self.columns) FROM conversations WHERE status != 'closed' AND spam = 0
            AND contact_id IN (SELECT ? UNION SELECT source_id FROM contact_merges WHERE target_id = ?) ORDER BY seq
            """, [contactID, contactID], Self.decode)
    }

    // MARK: - Writes

    /// Adds an agent's reply: 409 if closed; status → open; `firstResponseAt` set once.
    func addReply(_ conversationID: String, agentID: String, body: String, sender: InboxSender?) throws -> Message {
        try write { tx in
            let connection = tx.connection
            let conversation = try Self.conversation(connection, conversationID)
            guard conversation.status != .closed else { throw ConversationError.closed(conversationID) }
            let now = Timestamp.now()
            let message = Message(
                id: Identifier.make(), conversationId: conversationID, direction: .outbound,
                author: MessageAuthor(type: .agent, id: agentID), body: body, senderName: sender?.senderName,
                signature: sender?.signature, delivery: MessageDelivery(status: .pending), createdAt: now)
            try Self.insert(tx, message, replyTo: nil)
            try connection.run(
                """
                UPDATE conversations SET status = 'open', replied = 1, updated_at = ?,
                    first_response_at = coalesce(first_response_at, ?) WHERE id = ?
                """, now, now, conversationID)
            let after = try Self.conversation(connection, conversationID)
            try tx.recordOutbound(
                message, in: after, to: try Self.address(connection, conversationID: conversationID))
            if conversation.status != after.status {
                try tx.record(.statusChanged, after, previous: [("previousStatus", conversation.status.rawValue)])
            }
            return message
        }
    }

    static func insert(_ tx: ConversationTransaction, _ message: Message, replyTo: String?) throws {
        let connection = tx.connection
        try connection.run(
            """
            INSERT INTO messages (id, conversation_id, direction, author_type, author_id, body, sender_name, signature,
                reply_to, created_at, delivery_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            message.id, message.conversationId, message.direction.rawValue, message.author.type.rawValue,
            message.author.id,
            message.body, message.senderName, message.signature, replyTo, message.createdAt,
            message.delivery?.status.rawValue)
    }

    /// Records what a channel connector did with an outbound message, once: the same report again
    /// changes nothing; a report that goes back (`failed` after `delivered`) is 409.
    func recordDelivery(_ messageID: String, _ report: DeliveryReport) throws -> Message {
        try write { tx in
            let connection = tx.connection
            guard
                let message = try connection.first(
                    "SELECT \(Self.messageColumns) FROM messages WHERE id = ?", [messageID], Self.message)
            else { throw ConversationError.messageNotFound(messageID) }
            guard message.direction == .outbound else { throw ConversationError.notOutbound(messageID) }
            let current = message.delivery ?? MessageDelivery(status: .pending)
            if current.status == report.status { return message }
            guard report.status.rank >= current.status.rank else {
                throw ConversationError.deliveryBackwards(messageID: messageID, from: current.status, to: report.status)
            }
            let now = Timestamp.now()
            try connection.run(
                """
                UPDATE messages SET delivery_status = ?, delivery_external_id = coalesce(?, delivery_external_id),
                    delivery_error = ?, delivery_updated_at = ? WHERE id = ?
                """, report.status.rawValue, report.externalId, report.error, now, messageID)
            var updated = message
            updated.delivery = MessageDelivery(
                status: report.status, externalId: report.externalId ?? current.externalId, error: report.error,
                updatedAt: now)
            try tx.recordDeliveryUpdated(
                updated, in: try Self.conversation(connection, message.conversationId), previous: current.status)
            return updated
        }
    }

    /// Closes the conversation and tells routing to release it (outbox); returns spam-filter training.
    func close(_ conversationID: String) throws -> Conversation {
        try write { tx in
            let connection = tx.connection
            let conversation = try Self.conversation(connection, conversationID)
            guard conversation.status != .closed else { throw ConversationError.alreadyClosed(conversationID) }
            let now = Timestamp.now()
            try connection.run(
                "UPDATE conversations SET status = 'closed', closed_at = ?, routing_state = 'none', queue_id = NULL, updated_at = ? WHERE id = ?",
                now, now, conversationID)
            try tx.enqueue(.release(conversationID))
            train(tx, try Self.trainClosed(tx, conversationID: conversationID))
            let closed = try Self.conversation(connection, conversationID)
            try tx.record(.statusChanged, closed, previous: [("previousStatus", conversation.status.rawValue)])
            return closed
        }
    }

    func changeTags(_ conversationID: String, add: [String], remove: [String]) throws -> Conversation {
        try write { tx in
            let connection = tx.connection
            let conversation = try Self.conversation(connection, conversationID)
            let removing = Set(remove.map { $0.lowercased() })
            var tags = conversation.tags.filter { !removing.contains($0.lowercased()) }
            for tag in add where !tags.contains(where: { $0.lowercased() == tag.lowercased() }) { tags.append(tag) }
            guard tags != conversation.tags else { return conversation }
            try Self.writeTags(tx, conversationID: conversationID, tags: tags)
            let changed = try Self.conversation(connection, conversationID)
            try tx.recordTagsChanged(changed, previousTags: conversation.tags)
            return changed
        }
    }

    static func writeTags(_ tx: ConversationTransaction, conversationID: String, tags: [String]) throws {
        let connection = tx.connection
        guard
            let seq = try connection.first(
                "SELECT seq FROM conversations WHERE id = ?", [conversationID], { $0.int64(0) })
        else {
            throw ConversationError.notFound(conversationID)
        }
        try connection.run(
            "UPDATE conversations SET tags = ?, updated_at = ? WHERE seq = ?", ListCoding.join(tags), Timestamp.now(),
            seq)
        try connection.run("DELETE FROM conversation_tags WHERE conversation_seq = ?", seq)
        for tag in Set(tags.map { $0.lowercased() }) {
            try connection.run("INSERT INTO conversation_tags (tag, conversation_seq) VALUES (?, ?)", tag, seq)
        }
    }

    /// Applies a routing decision unless a newer one is already recorded; stores automation replies.
    /// Records what changed: `conversation.assigned`, `.queued`, `.moved`, `.tags_changed`, and a
    /// `message.created` per automation reply.
    static func apply(_ tx: ConversationTransaction, _ result: RouteResult, replyTo messageID: String?) throws {
        let connection = tx.connection
        guard
            let before = try connection.first(
                "SELECT \(columns) FROM conversations WHERE id = ?", [result.conversationId], decode)
        else { return }
        let changed = try connection.run(
            """
            UPDATE conversations SET assignee_id = ?, inbox_id = coalesce(?, inbox_id), queue_id = ?, routing_state = ?,
                routing_version = ?, updated_at = ?
            WHERE id = ? AND routing_version < ? AND status != 'closed'
            """,
            result.assigneeId, result.inboxId, result.queueId, result.routingState.rawValue, result.version,
            Timestamp.now(),
            result.conversationId, result.version)
        var tagsChanged = false
        if !result.tags.isEmpty {
            var tags = before.tags
            for tag in result.tags where !tags.contains(where: { $0.lowercased() == tag.lowercased() }) {
                tags.append(tag)
            }
            if tags != before.tags {
                try writeTags(tx, conversationID: result.conversationId, tags: tags)
                tagsChanged = true
            }
        }
        var after = before
        if changed > 0 || tagsChanged { after = try conversation(connection, result.conversationId) }
        if changed > 0 { try recordRoutingChanges(tx, before: before, after: after) }
        if tagsChanged { try tx.recordTagsChanged(after, previousTags: before.tags) }
        guard let messageID, !result.replies.isEmpty,
            try connection.scalarInt("SELECT count(*) FROM messages WHERE reply_to = ?", [messageID]) == 0
        else { return }
        let address = try address(connection, conversationID: result.conversationId)
        for reply in result.replies {
            let message = Message(
                id: Identifier.make(), conversationId: result.conversationId, direction: .outbound,
                author: MessageAuthor(type: .automation, id: nil), body: reply.body,
                delivery: MessageDelivery(status: .pending), createdAt: Timestamp.now())
            try insert(tx, message, replyTo: messageID)
            try tx.recordOutbound(message, in: after, to: address)
        }
    }

    /// The events of a routing decision applied: where the conversation went.
    private static func recordRoutingChanges(_ tx: ConversationTransaction, before: Conversation, after: Conversation)
        throws
    {
        // A first placement is not a move: `conversation.assigned` or `.queued` tells it.
        if let previous = before.inboxId, after.inboxId != previous {
            try tx.record(.moved, after, previous: [("previousInboxId", before.inboxId)])
        }
        let previousAssignee = ("previousAssigneeId", before.assigneeId)
        if after.routingState == .assigned
            && (before.routingState != .assigned || before.assigneeId != after.assigneeId)
        {
            try tx.record(.assigned, after, previous: [previousAssignee])
        } else if after.routingState == .queued
            && (before.routingState != .queued || before.queueId != after.queueId)
        {
            try tx.record(.queued, after, previous: [previousAssignee])
        }
    }

    /// A contact was merged: its conversations are listed under the survivor from now on.
    func recordMerge(_ merge: ContactMerged) throws {
        try write { tx in
            let connection = tx.connection
            try connection.run(
                "INSERT OR REPLACE INTO contact_merges (source_id, target_id) VALUES (?, ?)", merge.sourceId,
                merge.targetId)
            try connection.run(
                "UPDATE contact_merges SET target_id = ? WHERE target_id = ?", merge.targetId, merge.sourceId)
            try connection.run(
                "UPDATE conversations SET contact_id = ? WHERE contact_id = ?", merge.targetId, merge.sourceId)
        }
    }

    /// The surviving contact for an id (itself unless merged).
    static func survivor(_ connection: Connection, _ contactID: String) throws -> String {
        try connection.first("SELECT target_id FROM contact_merges WHERE source_id = ?", [contactID]) { $0.string(0) }
            ?? contactID
    }
}

/// An inbox's sender identity, carried by agents' replies.
struct InboxSender: Sendable {
    var senderName: String
    var signature: String
}
