import ConciergeLogging
import ConciergeModels
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/route, /v1/routes, /v1/assignments and routing's internal routes (SPEC §5): a route
/// request is idempotent on (conversation, message id); releases and manual assigns keep load right.
struct RouteRoutes: Sendable {
    let engine: RoutingEngine

    func register(on router: Router) {
        router.post("/v1/route", access: .services, runsOnEventLoop: true, idempotencyKey: .notReplayed, route)
        router.get("/v1/routes/{conversationId}", access: .agents, decision)
        router.post(
            "/v1/assignments/{conversationId}/release", access: .services, idempotencyKey: .notReplayed, release)
        router.post("/v1/assignments/{conversationId}/assign", access: .services, idempotencyKey: .notReplayed, assign)
        router.get("/v1/internal/deactivated-agents", access: .services, deactivated)
    }

    @Sendable func route(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(RouteRequest.self)
        guard !input.conversationId.isEmpty else {
            throw Problem.badRequest("conversationId must not be empty.", field: "conversationId")
        }
        guard !input.message.id.isEmpty else {
            throw Problem.badRequest("message.id must not be empty.", field: "message.id")
        }
        let answer = try await engine.route(input)
        context.logger.debug(
            "routed", ["conversationId": input.conversationId, "state": answer.result.routingState.rawValue])
        return .json(bytes: answer.json)
    }

    @Sendable func decision(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try engine.decision(try context.parameters.require("conversationId")))
    }

    @Sendable func release(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try await engine.release(try context.parameters.require("conversationId")))
    }

    @Sendable func assign(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(AssignRequest.self)
        return try .json(try await engine.transfer(try context.parameters.require("conversationId"), input))
    }

    @Sendable func deactivated(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(DeactivatedAgents(agentIds: engine.deactivatedAgentIDs))
    }
}
