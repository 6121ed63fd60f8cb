import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Outbox
import ServiceRuntime

/// Where routing's answers land. Each conversation's `assigneeId`, `inboxId`, `queueId` and
/// `routingState` follow routing's latest decision; decisions carry a version, so an older one never
/// overwrites a newer one (`ConversationStore.apply`). Answers arrive three ways, all applied there:
/// - the answer to a `route` or `assign` call this service wrote to its outbox — whether the request
///   that wrote it delivered it itself (`Outbox.settle(…, applying: RoutingAnswers.apply(…))`, as
///   `POST /v1/inbound` does) or the dispatcher did on a retry (`register(on:)`) — applied by `apply`
///   in the transaction that removes the delivered entry, so an answer is never lost to a crash;
/// - a decision routing made on its own (draining, deactivation), on `POST /v1/internal/routing-decisions`;
/// - the answer to a direct call an agent's request waits for (move, transfer), in `AgentActions`.
enum RoutingAnswers {
    /// Applies routing's answer to a `route` or `assign` call, in the transaction that removes the
    /// delivered entry (recording its events in `events`): the request that wrote the call passes it
    /// to `Outbox.settle`, and `register(on:events:)` gives it to the dispatcher for the retries.
    static func apply(recordingIn events: EventLog) -> Outbox.DeliveryHook {
        { entry, response, connection in
            let result = try JSONCoding.decode(RouteResult.self, from: response.body)
            try ConversationStore.apply(
                ConversationTransaction(connection: connection, events: events), result,
                replyTo: messageID(ofRouteRequest: entry.body))
        }
    }

    static func register(on outbox: Outbox, events: EventLog) {
        outbox.onDelivered(.route, .assign, apply: apply(recordingIn: events))
    }

    /// The `message.id` of a route request we wrote (automated replies answer it), read without
    /// decoding the whole request; `nil` for an assign call.
    static func messageID(ofRouteRequest body: [UInt8]) -> String? {
        guard case .object(let request) = try? JSONParser.parse(body), case .object(let message)? = request["message"]
        else { return nil }
        return message["id"]?.stringValue
    }
}

extension RouteContact {
    /// What routing needs to know of a contact: identities, tags, attributes and dedicated hero.
    init(_ contact: Contact) {
        self.init(
            id: contact.id, name: contact.name, emails: contact.emails, phones: contact.phones, tags: contact.tags,
            attributes: contact.attributes, dedicatedHero: contact.dedicatedHero)
    }
}
