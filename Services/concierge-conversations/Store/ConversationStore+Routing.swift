import ConciergeModels
import Foundation
import Outbox
import ServiceRuntime
import Storage

/// The conversation's side of routing: route and assign calls written to the outbox, and routing's
/// answers applied (`RoutingAnswers` says where each comes from).
extension ConversationStore {
    /// A route request for the conversation, written to the outbox in the caller's transaction; the
    /// conversation is `pending` until routing answers.
    /// - Parameter heldFor: seconds the caller has to deliver it itself (`Outbox.settle`) before the
    ///   dispatcher may; `nil` when only the dispatcher delivers it.
    static func enqueueRoute(_ tx: ConversationTransaction, _ request: RouteRequest, heldFor: Double? = nil) throws
        -> String
    {
        let connection = tx.connection
        try connection.run(
            "UPDATE conversations SET routing_state = 'pending', updated_at = ? WHERE id = ?", Timestamp.now(),
            request.conversationId)
        return try tx.enqueue(.route(request), heldFor: heldFor)
    }

    static func enqueueAssign(_ tx: ConversationTransaction, conversation: Conversation, agentID: String) throws
        -> String
    {
        try tx.enqueue(
            .assign(
                conversation.id,
                AssignRequest(agentId: agentID, channel: conversation.channel, inboxId: conversation.inboxId)))
    }

    /// Applies a decision that arrived outside the outbox (routing's own, or the answer to a direct
    /// call) and returns the conversation as it now is.
    @discardableResult
    func applyRouting(_ result: RouteResult) throws -> Conversation {
        try write { tx in
            let connection = tx.connection
            try Self.apply(tx, result, replyTo: nil)
            return try Self.conversation(connection, result.conversationId)
        }
    }

    /// A contact's hero was replaced (`HeroHandover`): writes the calls for its open conversations,
    /// once per delivery of the replacement. Returns how many conversations were handed over.
    func recordHeroReplacement(_ event: HeroReplaced, deliveryID: String?) throws -> Int {
        try write { tx in
            let connection = tx.connection
            if let deliveryID, try !Idempotency.firstDelivery(connection, id: deliveryID) { return 0 }
            let open = try Self.openConversations(connection, contactID: event.contactId)
            for call in HeroHandover.calls(for: event, open: open, deliveryID: deliveryID) {
                switch call {
                case .assign(let conversation, let agentID):
                    _ = try Self.enqueueAssign(tx, conversation: conversation, agentID: agentID)
                case .route(let request): _ = try Self.enqueueRoute(tx, request)
                }
            }
            return open.count
        }
    }

    /// The contacts service's latest view of a contact (for smart-folder rules on contact fields).
    func saveSnapshot(_ contact: Contact) throws {
        try write { tx in try Self.saveSnapshot(tx, contact) }
    }
}

extension ConversationStore {
    /// Remembers an inbox's sender name and signature (`InboxDirectory`), for replies while routing is down.
    func saveInboxSender(_ sender: InboxSender, inboxID: String) throws {
        try write { tx in
            let connection = tx.connection
            try connection.run(
                "INSERT OR REPLACE INTO inbox_snapshots (id, sender_name, signature, fetched_at) VALUES (?, ?, ?, ?)",
                inboxID,
                sender.senderName, sender.signature, Timestamp.now())
        }
    }

    func storedInboxSender(inboxID: String) throws -> InboxSender? {
        try db.read { connection in
            try connection.first("SELECT sender_name, signature FROM inbox_snapshots WHERE id = ?", [inboxID]) {
                InboxSender(senderName: $0.string(0), signature: $0.string(1))
            }
        }
    }
}
