import ConciergeAuth
import ConciergeClients
import ConciergeLogging
import ConciergeModels
import HTTPServer
import Outbox
import ServiceRuntime

/// HTTP shape of spam marking and the filter (SPEC §6): marking spam trains the filter and blocks the
/// contact; not-spam (managers) trains the other way and does not unblock.
struct SpamRoutes: Sendable {
    let store: ConversationStore
    let filter: SpamFilter
    let contacts: ContactsClient
    let outbox: Outbox

    func register(on router: Router) {
        router.post("/v1/conversations/{id}/spam", access: .agents, spam)
        router.post("/v1/conversations/{id}/not-spam", access: .managers, notSpam)
        router.get("/v1/spam-filter", access: .agents, summary)
    }

    @Sendable func spam(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        // Agents do not see spam conversations (SPEC §2): marking one that already is changes nothing and,
        // for them, it does not exist.
        if context.claims?.role == .agent, try store.conversation(id).spam { throw ConversationError.notFound(id) }
        let conversation = try store.markSpam(id)
        context.logger.info("marked spam", ["conversationId": id])
        return try .json(conversation)
    }

    @Sendable func notSpam(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let current = try store.conversation(id)
        // The contact's hero matters for routing it again; without contacts it is routed by default rules.
        let contact =
            (try? await contacts.get(current.contactId)).map(RouteContact.init) ?? RouteContact(id: current.contactId)
        let entry = try store.markNotSpam(id, contact: contact)
        if let entry {
            _ = await outbox.settle(
                entry, timeout: ConversationStore.notSpamRouteWait,
                applying: RoutingAnswers.apply(recordingIn: store.events))
        }
        return try .json(try store.conversation(id))
    }

    @Sendable func summary(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(filter.summary)
    }
}
