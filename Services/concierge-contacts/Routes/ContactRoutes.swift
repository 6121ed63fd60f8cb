import ConciergeClients
import ConciergeCore
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/contacts (SPEC §3): decode, check, call the store, encode.
struct ContactRoutes: Sendable {
    let store: ContactStore
    let heroes: HeroValidator
    let metrics: Metrics

    static let createdHelp = "Contacts created (directly or by resolve)."
    static let resolvedHelp = "Inbound addresses resolved to contacts."

    func register(on router: Router) {
        metrics.declare("concierge_contacts_created_total", help: Self.createdHelp)
        metrics.declare(
            "concierge_contacts_resolved_total", help: Self.resolvedHelp,
            labelSets: [[("created", "true")], [("created", "false")]])
        router.post("/v1/contacts", access: .agents, create)
        router.get("/v1/contacts", access: .agents, search)
        router.get("/v1/contacts/{id}", access: .agents, runsOnEventLoop: true, get)
        router.patch("/v1/contacts/{id}", access: .agents, update)
        router.post(
            "/v1/contacts/resolve", access: .services, runsOnEventLoop: true, idempotencyKey: .notReplayed, resolve)
        router.post("/v1/contacts/{id}/merge", access: .managers, merge)
        router.post("/v1/contacts/{id}/block", access: .managersAndServices) { request, context in
            try await setBlocked(request, context, true)
        }
        router.post("/v1/contacts/{id}/unblock", access: .managers) { request, context in
            try await setBlocked(request, context, false)
        }
        router.put("/v1/contacts/{id}/dedicated-hero", access: .agents, setHero)
        router.delete("/v1/contacts/{id}/dedicated-hero", access: .agents, removeHero)
        router.post("/v1/internal/agent-deactivations", access: .services, idempotencyKey: .notReplayed, handOver)
    }

    @Sendable func create(_ request: Request, _ context: RequestContext) async throws -> Response {
        let draft = try ContactDraft(try request.decode(NewContact.self))
        try draft.checkIdentifiable()
        let created = try store.insert(draft)
        metrics.increment("concierge_contacts_created_total", help: Self.createdHelp)
        context.logger.debug("contact created", ["contactId": created.contact.id])
        return .json(bytes: created.json, status: 201)
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try store.get(try context.parameters.require("id")))
    }

    @Sendable func update(_ request: Request, _ context: RequestContext) async throws -> Response {
        let patch = try request.decode(JSONValue.self)
        return .json(bytes: try store.update(try context.parameters.require("id"), patch: patch).json)
    }

    @Sendable func search(_ request: Request, _ context: RequestContext) async throws -> Response {
        let query = request.query
        let paging = try Paging(query: query)
        var filters = ContactStore.Filters()
        filters.email = try query["email"].map { try Identity.normalizeEmail($0, field: "email") }
        filters.phone = try query["phone"].map { try Identity.normalizePhone($0, field: "phone") }
        filters.tag = query["tag"].map { $0.trimmingSpaces }
        filters.q = query["q"]
        filters.heroAgentID = query["heroAgentId"]
        filters.heroInboxID = query["heroInboxId"]
        return try .json(try store.search(filters, limit: paging.limit, before: try paging.integerCursor()))
    }

    @Sendable func resolve(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(ResolveRequest.self)
        let identity = try Identity.forAddress(channel: input.channel, address: input.address)
        let name = input.name?.trimmingSpaces
        if let name {
            try Identity.checkText(name, field: "name")
            try ContactLimits.checkLength(name, ContactLimits.nameLength, field: "name")
        }
        switch try store.resolve(kind: identity.kind, value: identity.value, name: name) {
        case .found(let contact):
            metrics.increment(
                "concierge_contacts_resolved_total", labels: [("created", "false")], help: Self.resolvedHelp)
            return try .json(ResolveResult(contact: contact, created: false))
        case .created(let contact):
            metrics.increment(
                "concierge_contacts_resolved_total", labels: [("created", "true")], help: Self.resolvedHelp)
            metrics.increment("concierge_contacts_created_total", help: Self.createdHelp)
            // `ResolveResult`'s JSON around the contact's, which the store encoded once for its event.
            var writer = JSONWriter(capacity: contact.json.count + 24)
            writer.beginObject()
            writer.key("contact")
            writer.raw(contact.json)
            writer.key("created")
            writer.bool(true)
            writer.endObject()
            return .json(bytes: writer.bytes, status: 201)
        }
    }

    @Sendable func merge(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(MergeRequest.self)
        let merged = try store.merge(targetID: try context.parameters.require("id"), sourceID: input.sourceId)
        context.logger.info("contacts merged", ["into": merged.contact.id, "source": input.sourceId])
        return .json(bytes: merged.json)
    }

    func setBlocked(_ request: Request, _ context: RequestContext, _ blocked: Bool) async throws -> Response {
        .json(bytes: try store.setBlocked(try context.parameters.require("id"), blocked).json)
    }

    @Sendable func setHero(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let hero = try request.decode(DedicatedHero.self)
        try HeroValidator.checkShape(hero, field: "id")  // 400 before anything is asked of routing
        _ = try store.get(id)  // 404 before asking routing about the hero
        try await heroes.validate(hero)
        return .json(bytes: try store.setHero(id, hero).json)
    }

    @Sendable func removeHero(_ request: Request, _ context: RequestContext) async throws -> Response {
        .json(bytes: try store.setHero(try context.parameters.require("id"), nil).json)
    }

    @Sendable func handOver(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(AgentHeroHandover.self)
        // An internal caller is checked like any other: an empty or malformed id would hand contacts to nobody.
        try HeroValidator.checkShape(DedicatedHero(type: .agent, id: input.agentId), field: "agentId")
        try HeroValidator.checkShape(DedicatedHero(type: .inbox, id: input.heroInboxId), field: "heroInboxId")
        let count = try store.handOver(input, entryID: request.header("idempotency-key"))
        context.logger.info("hero handover", ["agentId": input.agentId, "contacts": String(count)])
        return try .json(HandoverResult(contactsUpdated: count))
    }
}
