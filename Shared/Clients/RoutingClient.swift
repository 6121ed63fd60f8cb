import HTTPClient
import Models

/// Typed client of the routing service (SPEC §5). The routing issue completes it.
public struct RoutingClient: Sendable {
    public let client: ServiceClient

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }

    public func agent(_ id: String) async throws(ServiceError) -> Agent {
        try await client.call("GET", "/v1/agents/\(URLCoding.encodeComponent(id))")
    }

    public func inbox(_ id: String) async throws(ServiceError) -> Inbox {
        try await client.call("GET", "/v1/inboxes/\(URLCoding.encodeComponent(id))")
    }
}
