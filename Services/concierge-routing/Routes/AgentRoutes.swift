import ConciergeAuth
import ConciergeLogging
import ConciergeModels
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/agents (SPEC §5): administrators create and edit agents, an agent sets its own
/// availability, a team manager anyone's, and deactivates and reactivates them.
struct AgentRoutes: Sendable {
    let engine: RoutingEngine

    func register(on router: Router) {
        router.post("/v1/agents", access: .administrators, create)
        router.get("/v1/agents", access: .agents, list)
        router.get("/v1/agents/{id}", access: .agents, get)
        router.patch("/v1/agents/{id}", access: .administrators, update)
        router.put("/v1/agents/{id}/availability", access: .agents, setAvailability)
        router.post("/v1/agents/{id}/deactivate", access: .managers, deactivate)
        router.post("/v1/agents/{id}/reactivate", access: .managers, reactivate)
    }

    @Sendable func create(_ request: Request, _ context: RequestContext) async throws -> Response {
        let agent = try await engine.createAgent(try request.decode(NewAgent.self))
        context.logger.info("agent created", ["agentId": agent.id])
        return try .json(agent, status: 201)
    }

    @Sendable func list(_ request: Request, _ context: RequestContext) async throws -> Response {
        let paging = try Paging(query: request.query)
        let (items, next) = engine.agents(
            inboxID: request.query["inboxId"], limit: paging.limit, before: try paging.integerCursor())
        return try .json(Page(items: items, nextCursor: next))
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try engine.agent(try context.parameters.require("id")))
    }

    @Sendable func update(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(
            try await engine.updateAgent(try context.parameters.require("id"), try request.decode(AgentPatch.self)))
    }

    /// An agent may set only its own availability; managers, administrators and services anyone's.
    @Sendable func setAvailability(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let claims = try context.requireClaims()
        if claims.role == .agent && claims.sub != id { throw RoutingError.notYourAvailability }
        let input = try request.decode(AvailabilityUpdate.self)
        let agent = try await engine.setAvailability(id, input.availability)
        context.logger.info("availability changed", ["agentId": id, "availability": input.availability.rawValue])
        return try .json(agent)
    }

    @Sendable func deactivate(_ request: Request, _ context: RequestContext) async throws -> Response {
        let agent = try await engine.deactivate(try context.parameters.require("id"))
        context.logger.info("agent deactivated", ["agentId": agent.id])
        return try .json(agent)
    }

    @Sendable func reactivate(_ request: Request, _ context: RequestContext) async throws -> Response {
        let agent = try await engine.reactivate(try context.parameters.require("id"))
        context.logger.info("agent reactivated", ["agentId": agent.id])
        return try .json(agent)
    }
}
