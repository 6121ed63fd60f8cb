import ConciergeHTTPClient

/// One of the four services `concierge up` runs: its name, executable and port (SPEC §1 defaults: contacts
/// 8081, conversations 8082, routing 8083, crm-lookup 8084).
struct ChildService: Equatable, Sendable {
    /// `contacts`, `conversations`, `routing` or `crm-lookup`: the name in file names and status lines.
    let name: String
    /// The variable of `up`'s own environment that overrides the port, e.g. `CONTACTS_PORT`.
    let portVariable: String
    /// The variable every service reads to find this one, e.g. `CONTACTS_URL`.
    let urlVariable: String
    var port: Int

    var executable: String { "concierge-\(name)" }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The four services on their default ports, in start order.
    static let all = [
        ChildService(name: "contacts", portVariable: "CONTACTS_PORT", urlVariable: "CONTACTS_URL", port: 8081),
        ChildService(
            name: "conversations", portVariable: "CONVERSATIONS_PORT", urlVariable: "CONVERSATIONS_URL", port: 8082),
        ChildService(name: "routing", portVariable: "ROUTING_PORT", urlVariable: "ROUTING_URL", port: 8083),
        ChildService(name: "crm-lookup", portVariable: "CRM_LOOKUP_PORT", urlVariable: "CRM_LOOKUP_URL", port: 8084),
    ]

    /// The four services with any port overrides from `environment` applied.
    /// - Throws: `CLIError.configuration` for a port that is not 1–65535 or is taken by another service.
    static func configured(from environment: [String: String]) throws(CLIError) -> [ChildService] {
        var services: [ChildService] = []
        for var service in all {
            if let text = environment[service.portVariable] {
                guard let port = Int(text), (1...65535).contains(port) else {
                    throw .configuration("\(service.portVariable) must be a port from 1 to 65535, got \"\(text)\"")
                }
                service.port = port
            }
            if let other = services.first(where: { $0.port == service.port }) {
                throw .configuration("\(service.portVariable): port \(service.port) is already used by \(other.name)")
            }
            services.append(service)
        }
        return services
    }

    /// What the child starts with: `inherited`, plus its secret, database file and port, where the
    /// others are (they may be on overridden ports, and inherited values must not leak in), and
    /// `CONCIERGE_ALLOW_PRIVATE_TARGETS=true` unless `inherited` says otherwise: a suite run on one
    /// machine calls CRMs on that machine or its network (stubs, a test CRM).
    func environment(
        inheriting inherited: [String: String], secret: Secret, dataFolder: String, suite: [ChildService]
    ) -> [String: String] {
        var environment = inherited
        environment[Secret.variable] = secret.value
        // The secret goes by value; a file named as well would make the child refuse both.
        environment[Secret.fileVariable] = nil
        environment[OutboundPolicy.variable] = inherited[OutboundPolicy.variable] ?? "true"
        environment["DATABASE_PATH"] = dataFolder + "/\(name).sqlite"
        environment["PORT"] = String(port)
        for service in suite { environment[service.urlVariable] = service.baseURL }
        return environment
    }
}
