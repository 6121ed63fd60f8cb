import HTTPClient
import Models

extension ServiceClient {
    /// `GET /healthz`: the process is up.
    public func health() async throws(ServiceError) -> HealthStatus { try await call("GET", "/healthz") }

    /// `GET /readyz`: the database is open and migrated.
    public func ready() async throws(ServiceError) -> HealthStatus { try await call("GET", "/readyz") }
}

/// Typed client of the CRM-lookup service (SPEC §7). The CRM-lookup issue completes it.
public struct CRMLookupClient: Sendable {
    public let client: ServiceClient
    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }
}
