import ConciergeHTTPClient
import ConciergeModels

/// Typed client of the conversations service (SPEC §4): inbound messages, conversations and agents'
/// actions on them, reports.
public struct ConversationsClient: Sendable {
    public let client: ServiceClient

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }

    static func path(_ id: String) -> String { URLCoding.encodeComponent(id) }

    /// Filters of `GET /v1/conversations`.
    public struct Filters: Sendable {
        public var status: ConversationStatus?
        public var inboxId: String?
        public var assigneeId: String?
        public var contactId: String?
        public var tag: String?
        public var channel: Channel?
        public var spam: Bool?
        public var limit: Int?
        public var cursor: String?
        public init(
            status: ConversationStatus? = nil, inboxId: String? = nil, assigneeId: String? = nil,
            contactId: String? = nil,
            tag: String? = nil, channel: Channel? = nil, spam: Bool? = nil, limit: Int? = nil, cursor: String? = nil
        ) {
            self.status = status
            self.inboxId = inboxId
            self.assigneeId = assigneeId
            self.contactId = contactId
            self.tag = tag
            self.channel = channel
            self.spam = spam
            self.limit = limit
            self.cursor = cursor
        }
    }

    /// Sends one inbound message (role `service` or `administrator`).
    public func inbound(_ message: InboundRequest) async throws(ServiceError) -> InboundResult {
        try await client.call("POST", "/v1/inbound", body: message)
    }

    public func conversation(_ id: String) async throws(ServiceError) -> Conversation {
        try await client.call("GET", "/v1/conversations/\(Self.path(id))")
    }

    public func conversations(_ filters: Filters = Filters()) async throws(ServiceError) -> Page<Conversation> {
        let query = queryString([
            ("status", filters.status?.rawValue), ("inboxId", filters.inboxId), ("assigneeId", filters.assigneeId),
            ("contactId", filters.contactId), ("tag", filters.tag), ("channel", filters.channel?.rawValue),
            ("spam", filters.spam.map { $0 ? "true" : "false" }), ("limit", filters.limit.map(String.init)),
            ("cursor", filters.cursor),
        ])
        return try await client.call("GET", "/v1/conversations" + query)
    }

    public func messages(_ id: String, limit: Int? = nil, cursor: String? = nil) async throws(ServiceError) -> Page<
        Message
    > {
        try await client.call(
            "GET",
            "/v1/conversations/\(Self.path(id))/messages"
                + queryString([("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    public func reply(_ id: String, body: String) async throws(ServiceError) -> Message {
        try await client.call("POST", "/v1/conversations/\(Self.path(id))/messages", body: NewMessage(body: body))
    }

    public func close(_ id: String) async throws(ServiceError) -> Conversation {
        try await client.call("POST", "/v1/conversations/\(Self.path(id))/close")
    }

    public func assign(_ id: String, agentId: String) async throws(ServiceError) -> Conversation {
        try await client.call(
            "POST", "/v1/conversations/\(Self.path(id))/assign", body: TransferRequest(agentId: agentId))
    }

    public func reassignToHero(_ id: String) async throws(ServiceError) -> Conversation {
        try await client.call("POST", "/v1/conversations/\(Self.path(id))/reassign-to-hero")
    }

    public func move(_ id: String, inboxId: String) async throws(ServiceError) -> Conversation {
        try await client.call("POST", "/v1/conversations/\(Self.path(id))/move", body: MoveRequest(inboxId: inboxId))
    }

    public func tags(_ id: String, add: [String] = [], remove: [String] = []) async throws(ServiceError) -> Conversation
    {
        try await client.call(
            "POST", "/v1/conversations/\(Self.path(id))/tags", body: TagChange(add: add, remove: remove))
    }

    /// Report filters of `GET /v1/reports/conversations`; timestamps RFC 3339.
    public func report(
        from: String? = nil, to: String? = nil, tag: String? = nil, inboxId: String? = nil, channel: Channel? = nil
    ) async throws(ServiceError) -> ConversationReport {
        let query = queryString([
            ("from", from), ("to", to), ("tag", tag), ("inboxId", inboxId), ("channel", channel?.rawValue),
        ])
        return try await client.call("GET", "/v1/reports/conversations" + query)
    }
}
