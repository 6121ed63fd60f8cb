import ConciergeModels
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/inboxes and /v1/queues (SPEC §5): inboxes with their members and strategy, queues
/// inside an inbox served by priority, higher first.
struct InboxRoutes: Sendable {
    let engine: RoutingEngine

    func register(on router: Router) {
        router.post("/v1/inboxes", access: .administrators, createInbox)
        router.get("/v1/inboxes", access: .agents, listInboxes)
        router.get("/v1/inboxes/{id}", access: .agents, getInbox)
        router.patch("/v1/inboxes/{id}", access: .administrators, updateInbox)
        router.put("/v1/inboxes/{id}/members", access: .managers, setMembers)
        router.post("/v1/queues", access: .administrators, createQueue)
        router.get("/v1/queues", access: .agents, listQueues)
        router.get("/v1/queues/{id}", access: .agents, getQueue)
    }

    @Sendable func createInbox(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try await engine.createInbox(try request.decode(NewInbox.self)), status: 201)
    }

    @Sendable func listInboxes(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try Page(slicing: engine.inboxes(), query: request.query, id: \.id))
    }

    @Sendable func getInbox(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try engine.inbox(try context.parameters.require("id")))
    }

    @Sendable func updateInbox(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(
            try await engine.updateInbox(try context.parameters.require("id"), try request.decode(InboxPatch.self)))
    }

    @Sendable func setMembers(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(MembersUpdate.self)
        return try .json(try await engine.setMembers(try context.parameters.require("id"), input.agentIds))
    }

    @Sendable func createQueue(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try await engine.createQueue(try request.decode(NewQueue.self)), status: 201)
    }

    @Sendable func listQueues(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try Page(slicing: engine.queues(inboxID: request.query["inboxId"]), query: request.query, id: \.id))
    }

    @Sendable func getQueue(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try engine.queue(try context.parameters.require("id")))
    }
}
