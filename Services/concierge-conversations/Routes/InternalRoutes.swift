import ConciergeLogging
import ConciergeModels
import HTTPServer
import ServiceRuntime

/// Calls from the other services, delivered by their outboxes (at least once; each applied once).
struct InternalRoutes: Sendable {
    let store: ConversationStore

    func register(on router: Router) {
        router.post("/v1/internal/routing-decisions", access: .services, idempotencyKey: .notReplayed, decision)
        router.post("/v1/internal/contact-merges", access: .services, idempotencyKey: .notReplayed, merge)
        router.post("/v1/internal/hero-replacements", access: .services, idempotencyKey: .notReplayed, heroReplaced)
        router.post("/v1/internal/contact-snapshots", access: .services, idempotencyKey: .notReplayed, snapshot)
    }

    /// The contacts service's latest view of a contact, for smart-folder rules on contact fields.
    @Sendable func snapshot(_ request: Request, _ context: RequestContext) async throws -> Response {
        let contact = try request.decode(Contact.self)
        try InputCheck.snapshot(contact)
        try store.saveSnapshot(contact)
        return .noContent()
    }

    /// A decision routing made on its own (draining, deactivation); stale versions are ignored.
    @Sendable func decision(_ request: Request, _ context: RequestContext) async throws -> Response {
        let decision = try request.decode(RouteResult.self)
        try InputCheck.routingDecision(decision)
        try store.applyRouting(decision)
        return .noContent()
    }

    @Sendable func merge(_ request: Request, _ context: RequestContext) async throws -> Response {
        let merge = try request.decode(ContactMerged.self)
        try InputCheck.merge(merge)
        try store.recordMerge(merge)
        return .noContent()
    }

    /// The contact's open conversations go to its new hero at once (`HeroHandover`), through the
    /// outbox; routing's answers are applied when they come.
    @Sendable func heroReplaced(_ request: Request, _ context: RequestContext) async throws -> Response {
        let event = try request.decode(HeroReplaced.self)
        try InputCheck.heroReplacement(event)
        let handedOver = try store.recordHeroReplacement(event, deliveryID: request.header("idempotency-key"))
        context.logger.info("hero replaced", ["contactId": event.contactId, "conversations": String(handedOver)])
        return .noContent()
    }
}
