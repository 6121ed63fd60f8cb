import ConciergeHTTPClient
import ConciergeModels

extension ServiceClient {
    /// `GET /healthz`: the process is up.
    public func health() async throws(ServiceError) -> HealthStatus { try await call("GET", "/healthz") }

    /// `GET /readyz`: the database is open and migrated.
    public func ready() async throws(ServiceError) -> HealthStatus { try await call("GET", "/readyz") }
}
