import Foundation
import HTTPClient
import Models
import Outbox
import ServiceRuntime
import Storage

/// Keeps each conversation's `assigneeId`, `inboxId`, `queueId` and `routingState` equal to the
/// routing service's latest decision: answers to route and assign calls sent through the outbox are
/// applied in the transaction that settles the entry; unrequested decisions arrive on an internal
/// route. Decisions carry a version, so an older one never overwrites a newer one.
enum RoutingSync {
    static func install(on outbox: Outbox) {
        outbox.onDelivered { entry, response, connection in
            guard entry.target == OutboxTarget.routing, entry.path == "/v1/route" || entry.path.hasSuffix("/assign") else { return }
            let result = try JSONCoding.decode(RouteResult.self, from: response.body)
            try ConversationStore.apply(connection, result, replyTo: messageID(ofRouteRequest: entry.body))
        }
    }

    /// The `message.id` of a route request we wrote, read without decoding the whole request.
    static func messageID(ofRouteRequest body: [UInt8]) -> String? {
        guard case .object(let request) = try? JSONParser.parse(body), case .object(let message)? = request["message"] else { return nil }
        return message["id"]?.stringValue
    }

    /// A route request for the conversation, written to the outbox in the caller's transaction.
    /// - Parameter heldFor: seconds the caller has to deliver it itself (`Outbox.settle`) before the
    ///   dispatcher may; `nil` when only the dispatcher delivers it.
    static func enqueueRoute(_ connection: Connection, _ request: RouteRequest, heldFor: Double? = nil) throws -> String {
        try connection.run(
            "UPDATE conversations SET routing_state = 'pending', updated_at = ? WHERE id = ?", Timestamp.now(), request.conversationId)
        return try Outbox.enqueue(
            connection, target: OutboxTarget.routing, path: "/v1/route", body: request, key: request.conversationId, heldFor: heldFor)
    }

    static func enqueueAssign(_ connection: Connection, conversation: Conversation, agentID: String) throws -> String {
        try Outbox.enqueue(
            connection, target: OutboxTarget.routing,
            path: "/v1/assignments/\(URLCoding.encodeComponent(conversation.id))/assign",
            body: AssignRequest(agentId: agentID, channel: conversation.channel, inboxId: conversation.inboxId), key: conversation.id)
    }

    static func routeContact(_ contact: Contact) -> RouteContact {
        RouteContact(
            id: contact.id, name: contact.name, emails: contact.emails, phones: contact.phones, tags: contact.tags,
            attributes: contact.attributes, dedicatedHero: contact.dedicatedHero)
    }
}
