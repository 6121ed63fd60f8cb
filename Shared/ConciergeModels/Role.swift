/// The roles a token can carry (SPEC §2): agent, team manager and administrator, each allowed what the one
/// before is and more, and `service` for the calls services and channel connectors make.
public enum Role: String, Codable, Sendable, CaseIterable {
    case agent
    case teamManager = "team_manager"
    case administrator
    case service
}

/// Which roles a route admits.
public struct Access: Sendable, Equatable {
    public let roles: Set<Role>
    public init(_ roles: Set<Role>) { self.roles = roles }

    /// No token needed (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`).
    public static let open = Access([])
    /// Every authenticated caller: agents and up, and services (reads, ordinary work).
    public static let agents = Access([.agent, .teamManager, .administrator, .service])
    /// Team managers and administrators (SPEC §2: a service token makes only the calls services make on
    /// each other, and reads).
    public static let managers = Access([.teamManager, .administrator])
    /// Team managers and administrators, and services: for a manager's action that a service also takes
    /// itself (a contact blocked when its conversation is marked spam) and managers' reads.
    public static let managersAndServices = Access([.teamManager, .administrator, .service])
    /// Administrators only.
    public static let administrators = Access([.administrator])
    /// Service-to-service calls (and administrators, who may do everything).
    public static let services = Access([.service, .administrator])

    public var isOpen: Bool { roles.isEmpty }
    public func admits(_ role: Role) -> Bool { roles.contains(role) }
}
