import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime

/// `GET /v1/reports/conversations` (SPEC §4): counts and response-time percentiles over the
/// conversations created in `[from, to)`.
struct ReportRoutes: Sendable {
    let store: ConversationStore

    func register(on router: Router) {
        router.get("/v1/reports/conversations", access: .managersAndServices, report)
    }

    @Sendable func report(_ request: Request, _ context: RequestContext) async throws -> Response {
        let query = request.query
        var filters = ConversationStore.ReportFilters()
        filters.from = try Self.timestamp(query["from"], field: "from")
        filters.to = try Self.timestamp(query["to"], field: "to")
        filters.tag = query["tag"]
        filters.inboxID = query["inboxId"]
        filters.channel = try ConversationRoutes.parse(query["channel"], field: "channel", as: Channel.self)
        return try .json(try store.report(filters))
    }

    /// Accepts RFC 3339 with or without fraction and offset; stored form is UTC with milliseconds.
    static func timestamp(_ text: String?, field: String) throws -> String? {
        guard let text else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw ConversationError.invalid(field: field, message: "\(field) must be an RFC 3339 timestamp.")
        }
        return Timestamp.format(date)
    }
}
