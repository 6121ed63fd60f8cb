import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Outbox

/// Agent actions that need the routing service's answer now (SPEC §4): transfer, reassign to the
/// dedicated hero, move between inboxes. Routing validates and decides; the decision is applied here.
struct AgentActions: Sendable {
    let store: ConversationStore
    let routing: RoutingClient
    let contacts: ContactsClient
    let outbox: Outbox

    func transfer(_ conversation: Conversation, to agentID: String) async throws -> Conversation {
        try Self.requireOpen(conversation)
        let result = try await call("routing") {
            try await routing.assign(
                conversation.id,
                AssignRequest(agentId: agentID, channel: conversation.channel, inboxId: conversation.inboxId))
        }
        return try store.applyRouting(result)
    }

    /// Agent hero: straight to the hero. Inbox hero: routed within the hero inbox. No hero: 409.
    func reassignToHero(_ conversation: Conversation) async throws -> Conversation {
        try Self.requireOpen(conversation)
        let contact = try await call("contacts") { try await contacts.get(conversation.contactId) }
        guard let hero = contact.dedicatedHero else { throw ConversationError.noHero(contactID: contact.id) }
        switch hero.type {
        case .agent:
            return try await transfer(conversation, to: hero.id)
        case .inbox:
            return try await move(conversation, to: hero.id, contact: contact)
        }
    }

    /// Clears the assignee and routes within the new inbox.
    func move(_ conversation: Conversation, to inboxID: String, contact: Contact? = nil) async throws -> Conversation {
        try Self.requireOpen(conversation)
        let request = RouteRequest(
            conversationId: conversation.id, event: .moved, channel: conversation.channel, inboxId: inboxID,
            contact: contact.map(RouteContact.init) ?? RouteContact(id: conversation.contactId),
            message: RouteMessage(id: "move-" + UUIDs.make()))
        let result = try await call("routing") { try await routing.route(request) }
        return try store.applyRouting(result)
    }

    private static func requireOpen(_ conversation: Conversation) throws {
        guard conversation.status != .closed else { throw ConversationError.closed(conversation.id) }
    }

    /// Maps a dependency's failure: its 4xx problem passes through, no answer is 503, anything else 502.
    private func call<T>(_ service: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServiceError {
            switch error {
            case .problem(let problem)
            where (400..<500).contains(problem.status) && problem.status != 401 && problem.status != 403:
                throw problem
            case .unreachable(let why):
                throw ConversationError.dependencyDown(service: service, detail: why.description)
            case .problem(let problem) where problem.status == 503:
                throw ConversationError.dependencyDown(service: service, detail: problem.detail ?? "unavailable")
            default: throw ConversationError.dependencyFailed(service: service, detail: error.summary)
            }
        }
    }
}

enum UUIDs {
    static func make() -> String { Crypto.uuid() }
}
