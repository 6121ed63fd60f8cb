import ConciergeHTTPClient
import ConciergeModels

/// Typed client of the routing service (SPEC §5): agents and their availability, inboxes, queues, route
/// decisions and assignments.
public struct RoutingClient: Sendable {
    public let client: ServiceClient

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }

    private static func path(_ id: String) -> String { URLCoding.encodeComponent(id) }

    // MARK: - Agents

    public func createAgent(_ agent: NewAgent) async throws(ServiceError) -> Agent {
        try await client.call("POST", "/v1/agents", body: agent)
    }

    public func agents(inboxId: String? = nil, limit: Int? = nil, cursor: String? = nil) async throws(ServiceError)
        -> Page<Agent>
    {
        try await client.call(
            "GET",
            "/v1/agents" + queryString([("inboxId", inboxId), ("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    public func agent(_ id: String) async throws(ServiceError) -> Agent {
        try await client.call("GET", "/v1/agents/\(Self.path(id))")
    }

    public func updateAgent(_ id: String, _ patch: AgentPatch) async throws(ServiceError) -> Agent {
        try await client.call("PATCH", "/v1/agents/\(Self.path(id))", body: patch)
    }

    public func setAvailability(_ id: String, _ availability: Availability) async throws(ServiceError) -> Agent {
        try await client.call(
            "PUT", "/v1/agents/\(Self.path(id))/availability", body: AvailabilityUpdate(availability: availability))
    }

    public func deactivate(_ id: String) async throws(ServiceError) -> Agent {
        try await client.call("POST", "/v1/agents/\(Self.path(id))/deactivate")
    }

    public func reactivate(_ id: String) async throws(ServiceError) -> Agent {
        try await client.call("POST", "/v1/agents/\(Self.path(id))/reactivate")
    }

    // MARK: - Inboxes and queues

    public func createInbox(_ inbox: NewInbox) async throws(ServiceError) -> Inbox {
        try await client.call("POST", "/v1/inboxes", body: inbox)
    }

    public func inboxes(limit: Int? = nil, cursor: String? = nil) async throws(ServiceError) -> Page<Inbox> {
        try await client.call(
            "GET", "/v1/inboxes" + queryString([("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    public func inbox(_ id: String) async throws(ServiceError) -> Inbox {
        try await client.call("GET", "/v1/inboxes/\(Self.path(id))")
    }

    public func updateInbox(_ id: String, _ patch: InboxPatch) async throws(ServiceError) -> Inbox {
        try await client.call("PATCH", "/v1/inboxes/\(Self.path(id))", body: patch)
    }

    public func setMembers(_ inboxId: String, _ agentIds: [String]) async throws(ServiceError) -> Inbox {
        try await client.call(
            "PUT", "/v1/inboxes/\(Self.path(inboxId))/members", body: MembersUpdate(agentIds: agentIds))
    }

    public func createQueue(_ queue: NewQueue) async throws(ServiceError) -> Queue {
        try await client.call("POST", "/v1/queues", body: queue)
    }

    public func queues(inboxId: String? = nil, limit: Int? = nil, cursor: String? = nil) async throws(ServiceError)
        -> Page<Queue>
    {
        try await client.call(
            "GET",
            "/v1/queues" + queryString([("inboxId", inboxId), ("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    /// A queue with its waiting conversations in service order; an inbox id gives its implicit queue.
    public func queue(_ id: String) async throws(ServiceError) -> Queue {
        try await client.call("GET", "/v1/queues/\(Self.path(id))")
    }

    // MARK: - Routing

    public func route(_ request: RouteRequest) async throws(ServiceError) -> RouteResult {
        try await client.call("POST", "/v1/route", body: request)
    }

    public func decision(_ conversationId: String) async throws(ServiceError) -> RouteResult {
        try await client.call("GET", "/v1/routes/\(Self.path(conversationId))")
    }

    public func release(_ conversationId: String) async throws(ServiceError) -> RouteResult {
        try await client.call("POST", "/v1/assignments/\(Self.path(conversationId))/release")
    }

    public func assign(_ conversationId: String, _ request: AssignRequest) async throws(ServiceError) -> RouteResult {
        try await client.call("POST", "/v1/assignments/\(Self.path(conversationId))/assign", body: request)
    }

    public func deactivatedAgents() async throws(ServiceError) -> DeactivatedAgents {
        try await client.call("GET", "/v1/internal/deactivated-agents")
    }
}
