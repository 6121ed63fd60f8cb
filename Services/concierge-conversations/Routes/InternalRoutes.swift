import HTTPServer
import Models
import Outbox
import ServiceRuntime

/// Calls from the other services, delivered by their outboxes (at least once; each applied once).
struct InternalRoutes: Sendable {
    let store: ConversationStore

    func register(on router: Router) {
        router.post("/v1/internal/routing-decisions", access: .services, decision)
        router.post("/v1/internal/contact-merges", access: .services, merge)
        router.post("/v1/internal/hero-replacements", access: .services, heroReplaced)
        router.post("/v1/internal/contact-snapshots", access: .services, snapshot)
    }

    /// The contacts service's latest view of a contact, for smart-folder rules on contact fields.
    @Sendable func snapshot(_ request: Request, _ context: RequestContext) async throws -> Response {
        let contact = try request.decode(Contact.self)
        try store.db.write { connection in try ConversationStore.saveSnapshot(connection, contact) }
        return .noContent()
    }

    /// A decision routing made on its own (draining, deactivation); stale versions are ignored.
    @Sendable func decision(_ request: Request, _ context: RequestContext) async throws -> Response {
        let result = try request.decode(RouteResult.self)
        try store.db.write { connection in try ConversationStore.apply(connection, result, replyTo: nil) }
        return .noContent()
    }

    @Sendable func merge(_ request: Request, _ context: RequestContext) async throws -> Response {
        try store.recordMerge(try request.decode(ContactMerged.self))
        return .noContent()
    }

    /// SPEC §3 effect 2: the contact's open conversations go to the new hero at once — straight to
    /// an agent hero, routed within an inbox hero — through the outbox, applied when routing answers.
    @Sendable func heroReplaced(_ request: Request, _ context: RequestContext) async throws -> Response {
        let event = try request.decode(HeroReplaced.self)
        let entryID = request.header("idempotency-key")
        let queued = try store.db.write { connection -> Int in
            if let entryID, try !Idempotency.firstDelivery(connection, id: entryID) { return 0 }
            let open = try ConversationStore.openConversations(connection, contactID: event.contactId)
            for conversation in open {
                switch event.hero.type {
                case .agent:
                    _ = try RoutingSync.enqueueAssign(connection, conversation: conversation, agentID: event.hero.id)
                case .inbox:
                    _ = try RoutingSync.enqueueRoute(
                        connection,
                        RouteRequest(
                            conversationId: conversation.id, event: .moved, channel: conversation.channel, inboxId: event.hero.id,
                            contact: RouteContact(id: event.contactId, dedicatedHero: event.hero),
                            message: RouteMessage(id: "hero-\(entryID ?? conversation.id)-\(conversation.id)")))
                }
            }
            return open.count
        }
        context.logger.info("hero replaced", ["contactId": event.contactId, "conversations": String(queued)])
        return .noContent()
    }
}
