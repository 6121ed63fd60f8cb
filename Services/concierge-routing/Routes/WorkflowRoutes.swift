import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/workflow (SPEC §5 "The routing workflow").
struct WorkflowRoutes: Sendable {
    let engine: RoutingEngine

    func register(on router: Router) {
        router.put("/v1/workflow", access: .administrators, put)
        router.get("/v1/workflow", access: .agents, get)
        router.get("/v1/workflow/versions", access: .agents, versions)
        router.get("/v1/workflow/templates", access: .agents, templates)
    }

    /// Validates the whole document against the ids routing knows and stores it as a new version.
    @Sendable func put(_ request: Request, _ context: RequestContext) async throws -> Response {
        let json = try request.decode(JSONValue.self)
        let document = try WorkflowParser.parse(json, known: engine.read { $0.knownIDs })
        let saved = try engine.workflows.save(json, parsed: document)
        context.logger.info("workflow saved", ["version": String(saved.version)])
        return try .json(saved)
    }

    /// The active workflow: its version, when it was saved, and the document as it was sent.
    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        guard let (version, json) = try engine.workflows.active() else {
            throw Problem(
                status: 404, title: "No workflow", detail: "No workflow has been saved; default routing applies.")
        }
        return try .json(version.shown(json))
    }

    @Sendable func versions(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try Page(slicing: try engine.workflows.versions(), query: request.query) { String($0.version) })
    }

    @Sendable func templates(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try Page(slicing: WorkflowTemplates.all, query: request.query, id: \.name))
    }
}
