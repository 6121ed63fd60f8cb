import ConciergeJSON
import ConciergeModels
import Events
import Storage

/// The conversations service's events, each recorded in the transaction of its change. Their `data`
/// is the conversation or message as its `GET` shows it after the change, plus the `previous…` values
/// the type names. Who may see one besides managers: the conversation's assignee after the change,
/// and nobody while the conversation is spam.
enum ConversationEvent: String, CaseIterable {
    case created = "conversation.created"
    case assigned = "conversation.assigned"
    case queued = "conversation.queued"
    case statusChanged = "conversation.status_changed"
    case moved = "conversation.moved"
    case tagsChanged = "conversation.tags_changed"
    case spam = "conversation.spam"
    case notSpam = "conversation.not_spam"
    case messageCreated = "message.created"
    case deliveryUpdated = "message.delivery_updated"
}

extension ConversationTransaction {
    /// A `conversation.*` event: the conversation as it now is, plus `previous` members.
    func record(_ type: ConversationEvent, _ conversation: Conversation, previous: [(String, String?)] = []) throws {
        var writer = JSONWriter(capacity: 640)
        writer.beginObject()
        conversation.writeMembers(to: &writer)
        for (name, value) in previous {
            writer.key(name)
            writer.string(value)
        }
        writer.endObject()
        try events.record(connection, type.rawValue, data: writer.bytes, audience: Self.audience(of: conversation))
    }

    /// `conversation.tags_changed`, with the tags before.
    func recordTagsChanged(_ conversation: Conversation, previousTags: [String]) throws {
        var writer = JSONWriter(capacity: 640)
        writer.beginObject()
        conversation.writeMembers(to: &writer)
        writer.key("previousTags")
        writer.strings(previousTags)
        writer.endObject()
        try events.record(
            connection, ConversationEvent.tagsChanged.rawValue, data: writer.bytes,
            audience: Self.audience(of: conversation))
    }

    /// `message.created` for a message the customer sent: the message, its conversation's channel and
    /// inbox, and the address it came from.
    func recordInbound(_ message: Message, in conversation: Conversation, from address: String) throws {
        try record(.messageCreated, message, in: conversation) { writer in
            writer.key("from")
            writer.string(address)
        }
    }

    /// `message.created` for a message to the customer (an agent's reply, an automation's): what a
    /// channel connector needs to send it — channel, the address to send to, the subject, the inbox
    /// and its sender identity — and its delivery, `pending` until the connector reports.
    func recordOutbound(_ message: Message, in conversation: Conversation, to address: String?) throws {
        try record(.messageCreated, message, in: conversation) { writer in
            writer.key("to")
            writer.string(address)
            writer.key("subject")
            writer.string(Self.replySubject(conversation))
            // Always present here, null when the inbox has none (the message itself omits them then).
            if message.senderName == nil {
                writer.key("senderName")
                writer.null()
            }
            if message.signature == nil {
                writer.key("signature")
                writer.null()
            }
            if message.delivery == nil {
                writer.key("delivery")
                writer.value(MessageDelivery(status: .pending))
            }
        }
    }

    /// `message.delivery_updated`: the message with its new delivery, and the status before.
    func recordDeliveryUpdated(_ message: Message, in conversation: Conversation, previous: MessageDelivery.Status)
        throws
    {
        try record(.deliveryUpdated, message, in: conversation) { writer in
            writer.key("previousStatus")
            writer.string(previous.rawValue)
        }
    }

    /// A `message.*` event: the message, its conversation's channel and inbox, and what `extra` adds.
    private func record(
        _ type: ConversationEvent, _ message: Message, in conversation: Conversation, extra: (inout JSONWriter) -> Void
    ) throws {
        var writer = JSONWriter(capacity: 640 + message.body.utf8.count)
        writer.beginObject()
        message.writeMembers(to: &writer)
        writer.key("channel")
        writer.string(conversation.channel.rawValue)
        writer.key("inboxId")
        writer.string(conversation.inboxId)
        extra(&writer)
        writer.endObject()
        try events.record(connection, type.rawValue, data: writer.bytes, audience: Self.audience(of: conversation))
    }

    /// The agent who may see the conversation's events: its assignee, unless it is spam.
    static func audience(of conversation: Conversation) -> String? {
        conversation.spam ? nil : conversation.assigneeId
    }

    /// An email reply's subject: `Re: <subject>` (once); other channels have none.
    static func replySubject(_ conversation: Conversation) -> String? {
        guard conversation.channel == .email else { return nil }
        guard let subject = conversation.subject, !subject.isEmpty else { return "Re:" }
        return subject.lowercased().hasPrefix("re:") ? subject : "Re: " + subject
    }
}
