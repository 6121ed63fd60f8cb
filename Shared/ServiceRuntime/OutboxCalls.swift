import ConciergeModels
import Outbox

/// Every call one service makes on another through its outbox, in one place: kind, receiver, path,
/// body and ordering key. A change writes `try Outbox.enqueue(connection, .release(conversationID))`
/// in its own transaction; the receiver applies each call once (`Idempotency-Key`).
extension OutboxCall.Kind {
    /// conversations → routing: route a conversation (answered with a `RouteResult`).
    public static let route: Self = "route"
    /// conversations → routing: assign a conversation to a named agent (answered with a `RouteResult`).
    public static let assign: Self = "assign"
    /// conversations → routing: the conversation no longer needs an agent (closed, spam).
    public static let release: Self = "release"
    /// conversations → contacts: block a contact whose conversation was marked spam.
    public static let block: Self = "block"
    /// contacts → conversations: a contact's dedicated hero changed.
    public static let heroReplacement: Self = "hero-replacement"
    /// contacts → conversations: one contact was merged into another.
    public static let contactMerge: Self = "contact-merge"
    /// contacts → conversations: a contact's latest fields, for smart-folder rules.
    public static let contactSnapshot: Self = "contact-snapshot"
    /// routing → conversations: a decision routing made on its own (draining, deactivation).
    public static let routingDecision: Self = "routing-decision"
    /// routing → contacts: a deactivated agent's hero customers go to its hero inbox.
    public static let agentDeactivation: Self = "agent-deactivation"
}

extension OutboxCall {
    public static func route(_ request: RouteRequest) throws -> OutboxCall {
        try OutboxCall(
            kind: .route, target: OutboxTarget.routing, path: "/v1/route", body: request, key: request.conversationId)
    }

    public static func assign(_ conversationID: String, _ request: AssignRequest) throws -> OutboxCall {
        try OutboxCall(
            kind: .assign, target: OutboxTarget.routing,
            path: "/v1/assignments/\(URLCoding.encodeComponent(conversationID))/assign", body: request,
            key: conversationID)
    }

    public static func release(_ conversationID: String) throws -> OutboxCall {
        try OutboxCall(
            kind: .release, target: OutboxTarget.routing,
            path: "/v1/assignments/\(URLCoding.encodeComponent(conversationID))/release", body: [String: String](),
            key: conversationID)
    }

    public static func block(contactID: String) throws -> OutboxCall {
        try OutboxCall(
            kind: .block, target: OutboxTarget.contacts,
            path: "/v1/contacts/\(URLCoding.encodeComponent(contactID))/block",
            body: [String: String](), key: contactID)
    }

    public static func heroReplacement(_ event: HeroReplaced) throws -> OutboxCall {
        try OutboxCall(
            kind: .heroReplacement, target: OutboxTarget.conversations, path: "/v1/internal/hero-replacements",
            body: event,
            key: event.contactId)
    }

    public static func contactMerge(_ event: ContactMerged) throws -> OutboxCall {
        try OutboxCall(
            kind: .contactMerge, target: OutboxTarget.conversations, path: "/v1/internal/contact-merges", body: event,
            key: event.targetId)
    }

    public static func contactSnapshot(_ contact: Contact) throws -> OutboxCall {
        try OutboxCall(
            kind: .contactSnapshot, target: OutboxTarget.conversations, path: "/v1/internal/contact-snapshots",
            body: contact,
            key: contact.id)
    }

    public static func routingDecision(_ result: RouteResult) throws -> OutboxCall {
        try OutboxCall(
            kind: .routingDecision, target: OutboxTarget.conversations, path: "/v1/internal/routing-decisions",
            body: result,
            key: result.conversationId)
    }

    public static func agentDeactivation(_ handover: AgentHeroHandover) throws -> OutboxCall {
        try OutboxCall(
            kind: .agentDeactivation, target: OutboxTarget.contacts, path: "/v1/internal/agent-deactivations",
            body: handover,
            key: handover.agentId)
    }
}
