import ConciergeAuth
import ConciergeClients
import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/inbound and /v1/conversations (SPEC §4): the inbound pipeline, and agents' reads and
/// actions (spam conversations only for managers and administrators).
struct ConversationRoutes: Sendable {
    let store: ConversationStore
    let pipeline: InboundPipeline
    let actions: AgentActions
    let inboxes: InboxDirectory

    func register(on router: Router) {
        router.post("/v1/inbound", access: .services, runsOnEventLoop: true, idempotencyKey: .notReplayed, inbound)
        router.get("/v1/conversations", access: .agents, list)
        router.get("/v1/conversations/{id}", access: .agents, get)
        router.get("/v1/conversations/{id}/messages", access: .agents, messages)
        router.post("/v1/conversations/{id}/messages", access: .agents, reply)
        router.post("/v1/conversations/{id}/close", access: .agents, close)
        router.post("/v1/conversations/{id}/assign", access: .agents, assign)
        router.post("/v1/conversations/{id}/reassign-to-hero", access: .agents, reassignToHero)
        router.post("/v1/conversations/{id}/move", access: .agents, move)
        router.post("/v1/conversations/{id}/tags", access: .agents, tags)
        router.post("/v1/messages/{id}/delivery", access: .services, delivery)
    }

    @Sendable func inbound(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(InboundRequest.self)
        guard !input.from.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConversationError.invalid(field: "from", message: "from must not be empty.")
        }
        try InputCheck.inbound(input)
        let outcome = try await pipeline.handle(input)
        return try .json(outcome.result, status: outcome.created ? 201 : 200)
    }

    @Sendable func list(_ request: Request, _ context: RequestContext) async throws -> Response {
        let query = request.query
        let paging = try Paging(query: query)
        var filters = ConversationStore.Filters()
        filters.status = try Self.parse(query["status"], field: "status", as: ConversationStatus.self)
        filters.channel = try Self.parse(query["channel"], field: "channel", as: Channel.self)
        filters.inboxID = query["inboxId"]
        filters.assigneeID = query["assigneeId"]
        filters.contactID = query["contactId"]
        filters.tag = query["tag"]
        if let spam = query["spam"] {
            guard spam == "true" || spam == "false" else {
                throw ConversationError.invalid(field: "spam", message: "spam must be true or false.")
            }
            filters.spam = spam == "true"
            if filters.spam { try Self.requireSpamReader(context) }
        }
        return try .json(try store.list(filters, limit: paging.limit, before: try paging.integerCursor()))
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try visible(context))
    }

    @Sendable func messages(_ request: Request, _ context: RequestContext) async throws -> Response {
        let conversation = try visible(context)
        let paging = try Paging(query: request.query)
        return try .json(try store.messages(conversation.id, limit: paging.limit, after: try paging.integerCursor()))
    }

    @Sendable func reply(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(NewMessage.self)
        guard !input.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ConversationError.invalid(field: "body", message: "body must not be empty.")
        }
        try InputCheck.text(input.body, field: "body", lines: .multiline)
        let conversation = try visible(context)
        guard conversation.status != .closed else { throw ConversationError.closed(conversation.id) }
        let sender = await inboxes.sender(for: conversation.inboxId)
        let message = try store.addReply(
            conversation.id, agentID: try context.requireClaims().sub, body: input.body, sender: sender)
        return try .json(message, status: 201)
    }

    @Sendable func close(_ request: Request, _ context: RequestContext) async throws -> Response {
        try .json(try store.close(try visible(context).id))
    }

    @Sendable func assign(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(TransferRequest.self)
        let conversation = try visible(context)
        return try .json(try await actions.transfer(conversation, to: input.agentId))
    }

    @Sendable func reassignToHero(_ request: Request, _ context: RequestContext) async throws -> Response {
        let conversation = try visible(context)
        return try .json(try await actions.reassignToHero(conversation))
    }

    @Sendable func move(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(MoveRequest.self)
        let conversation = try visible(context)
        return try .json(try await actions.move(conversation, to: input.inboxId))
    }

    @Sendable func tags(_ request: Request, _ context: RequestContext) async throws -> Response {
        let input = try request.decode(TagChange.self)
        let add = try Self.cleanTags(input.add ?? [], field: "add")
        let remove = try Self.cleanTags(input.remove ?? [], field: "remove")
        return try .json(try store.changeTags(try visible(context).id, add: add, remove: remove))
    }

    /// A channel connector reports what became of an outbound message.
    @Sendable func delivery(_ request: Request, _ context: RequestContext) async throws -> Response {
        let report = try request.decode(DeliveryReport.self)
        try InputCheck.delivery(report)
        return try .json(try store.recordDelivery(try context.parameters.require("id"), report))
    }

    /// The conversation named in the path; spam ones exist only for those who may read spam.
    private func visible(_ context: RequestContext) throws -> Conversation {
        let conversation = try store.conversation(try context.parameters.require("id"))
        if conversation.spam, context.claims?.role == .agent { throw ConversationError.notFound(conversation.id) }
        return conversation
    }

    static func requireSpamReader(_ context: RequestContext) throws {
        guard let role = context.claims?.role, role != .agent else { throw ConversationError.spamForbidden }
    }

    static func parse<T: RawRepresentable>(_ text: String?, field: String, as: T.Type) throws -> T?
    where T.RawValue == String {
        guard let text else { return nil }
        guard let value = T(rawValue: text) else {
            throw ConversationError.invalid(field: field, message: "\(field) has no value \(text).")
        }
        return value
    }

    static func cleanTags(_ tags: [String], field: String) throws -> [String] {
        try tags.enumerated().map { index, raw in
            let tag = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !tag.isEmpty, !StoredText.exceeds(tag, maxLength: 100), StoredText.isAllowed(tag) else {
                throw ConversationError.invalid(
                    field: "\(field)[\(index)]", message: "Tags must be 1 to 100 printable characters.")
            }
            return tag
        }
    }
}
