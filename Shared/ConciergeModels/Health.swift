/// `GET /healthz` and `/readyz` answer.
public struct HealthStatus: Codable, Sendable, Equatable {
    public var status: String
    public init(status: String) { self.status = status }
}
