import ConciergeModels
import Events
import Foundation
import HTTPServer
import Webhooks

/// HTTP shape of `/v1/webhooks` (administrators), the same on every service: where its events are
/// sent, their delivery log, secret rotation and replay.
struct WebhookRoutes: Sendable {
    let store: WebhookStore
    let events: EventLog
    let dispatcher: WebhookDispatcher
    /// Why a URL may not be called (the outbound policy), or `nil` when it may.
    let checkTarget: @Sendable (String) -> String?

    static let maxWebhooks = 100
    static let maxTypes = 50
    static let maxURLLength = 2048
    static let maxDescriptionLength = 500

    func register(on router: Router) {
        router.post("/v1/webhooks", access: .administrators, create)
        router.get("/v1/webhooks", access: .administrators, list)
        router.get("/v1/webhooks/{id}", access: .administrators, get)
        router.patch("/v1/webhooks/{id}", access: .administrators, update)
        router.delete("/v1/webhooks/{id}", access: .administrators, delete)
        router.post("/v1/webhooks/{id}/rotate-secret", access: .administrators, rotate)
        router.get("/v1/webhooks/{id}/deliveries", access: .administrators, deliveries)
        router.post("/v1/webhooks/{id}/replay", access: .administrators, replay)
    }

    @Sendable func create(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(NewWebhook.self)
        try check(url: input.url)
        try Self.check(types: input.types)
        try Self.check(description: input.description)
        guard try store.count() < Self.maxWebhooks else {
            throw Problem.unprocessable(
                "A service has at most \(Self.maxWebhooks) webhooks.",
                errors: [Problem.FieldError(field: "url", message: "Too many webhooks.")])
        }
        // It receives what commits from now on.
        let webhook = try store.create(input, startingAfter: try events.lastSeq())
        dispatcher.wake()
        var response = try Response.json(webhook, status: 201)
        response.headers.append(("Location", "/v1/webhooks/\(webhook.id)"))
        return response
    }

    @Sendable func list(_ request: Request, _ context: RequestContext) async throws -> Response {
        let paging = try Paging(query: request.query)
        return try .json(try store.list(limit: paging.limit, before: paging.cursor))
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try require(try context.parameters.require("id")))
    }

    @Sendable func update(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let patch = try request.decode(WebhookPatch.self)
        if let url = patch.url { try check(url: url) }
        if let types = patch.types { try Self.check(types: types) }
        try Self.check(description: patch.description)
        if patch.status == .disabled {
            throw Problem.unprocessable(
                "status may be set to active or paused; only the service disables a webhook.",
                errors: [Problem.FieldError(field: "status", message: "must be active or paused")])
        }
        let oldest = try events.page(after: nil, filter: EventFilter(), limit: 1).events.first?.seq
        let oldestKept = try oldest ?? (events.lastSeq() + 1)
        guard let webhook = try store.update(id, patch, oldestKept: oldestKept) else {
            throw Problem.notFound("Webhook", id: id)
        }
        dispatcher.wake()
        return try .json(webhook)
    }

    @Sendable func delete(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try store.delete(id) else { throw Problem.notFound("Webhook", id: id) }
        return .noContent()
    }

    @Sendable func rotate(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let webhook = try store.rotateSecret(id) else { throw Problem.notFound("Webhook", id: id) }
        return try .json(webhook)
    }

    @Sendable func deliveries(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        _ = try require(id)
        let paging = try Paging(query: request.query)
        return try .json(try store.deliveries(id, limit: paging.limit, before: paging.cursor))
    }

    @Sendable func replay(_ request: Request, _ context: RequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let input = try request.decode(WebhookReplay.self)
        guard input.after >= 0 else { throw Problem.badRequest("after must be 0 or more.", field: "after") }
        guard try store.replay(id, after: input.after) else { throw Problem.notFound("Webhook", id: id) }
        dispatcher.wake()
        return try .json(try require(id), status: 202)
    }

    private func require(_ id: String) throws -> Webhook {
        guard let webhook = try store.get(id) else { throw Problem.notFound("Webhook", id: id) }
        return webhook
    }

    // MARK: - Checks

    private func check(url: String) throws {
        guard url.utf8.count <= Self.maxURLLength, StoredText.isAllowed(url),
            let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else {
            throw Problem.unprocessable(
                "url must be an http or https URL with a host, at most \(Self.maxURLLength) characters.",
                errors: [Problem.FieldError(field: "url", message: "must be an http or https URL")])
        }
        if let refusal = checkTarget(url) {
            throw Problem.unprocessable(refusal, errors: [Problem.FieldError(field: "url", message: refusal)])
        }
    }

    private static func check(types: [String]) throws {
        guard !types.isEmpty, types.count <= maxTypes else {
            throw Problem.unprocessable(
                "types lists 1 to \(maxTypes) event types or prefixes (conversation.*, or * for all).",
                errors: [Problem.FieldError(field: "types", message: "must list 1 to \(maxTypes) entries")])
        }
        for (index, type) in types.enumerated() {
            do {
                _ = try EventFilter(types: type, audience: nil)
                guard !type.contains(",") else { throw Problem.badRequest("one type per entry") }
            } catch {
                throw Problem.unprocessable(
                    "types[\(index)] is not an event type or a prefix ending in .*.",
                    errors: [Problem.FieldError(field: "types[\(index)]", message: "not an event type or prefix")])
            }
        }
    }

    private static func check(description: String?) throws {
        guard let description else { return }
        guard !StoredText.exceeds(description, maxLength: maxDescriptionLength), StoredText.isAllowed(description)
        else {
            throw Problem.badRequest(
                "description is at most \(maxDescriptionLength) printable characters.", field: "description")
        }
    }
}
