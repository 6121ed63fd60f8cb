import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/folders (SPEC §6): managers edit, everyone reads.
struct FolderRoutes: Sendable {
    let folders: FolderStore

    func register(on router: Router) {
        router.post("/v1/folders", access: .managers, create)
        router.get("/v1/folders", access: .agents, list)
        router.get("/v1/folders/{id}", access: .agents, get)
        router.put("/v1/folders/{id}", access: .managers, update)
        router.delete("/v1/folders/{id}", access: .managers, delete)
        router.get("/v1/folders/{id}/conversations", access: .agents, conversations)
    }

    @Sendable func create(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try Self.validated(try request.decode(FolderInput.self))
        return try .json(try folders.create(name: input.name, rule: input.rule), status: 201)
    }

    @Sendable func list(_ request: Request, _ context: RequestContext) async throws -> Response {
        let paging = try Paging(query: request.query)
        return try .json(try folders.list(limit: paging.limit, before: try paging.integerCursor()))
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try folders.folder(try context.parameters.require("id")))
    }

    @Sendable func update(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try Self.validated(try request.decode(FolderInput.self))
        return try .json(try folders.update(try context.parameters.require("id"), name: input.name, rule: input.rule))
    }

    @Sendable func delete(_ request: Request, _ context: RequestContext) async throws -> Response {
        try folders.delete(try context.parameters.require("id"))
        return .noContent()
    }

    @Sendable func conversations(_ request: Request, _ context: RequestContext) async throws -> Response {
        let folder = try folders.folder(try context.parameters.require("id"))
        let paging = try Paging(query: request.query)
        return try .json(
            try folders.conversations(
                try FolderRule.parse(folder.rule), limit: paging.limit, before: try paging.integerCursor()))
    }

    private static func validated(_ input: FolderInput) throws -> FolderInput {
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw Problem.badRequest("name must be 1 to 200 characters.", field: "name")
        }
        try InputCheck.text(name, field: "name")
        _ = try FolderRule.parse(input.rule, isNew: true)
        return FolderInput(name: name, rule: input.rule)
    }
}
