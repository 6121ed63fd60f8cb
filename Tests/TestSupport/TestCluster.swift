import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation

/// A set of real service processes wired to each other on free ports, each with a temp database.
/// Every service gets the URLs of all four, so one not started simply looks "down".
public final class TestCluster: Sendable {
    public let secret: String
    public let signer: JWTSigner
    public let directory: URL
    public let ports: [ServiceKind: Int]
    public let services: [ServiceKind: RunningService]

    init(_ kinds: [ServiceKind], extraEnvironment: [String: String]) throws {
        secret = Crypto.randomBytes(24).map { String(format: "%02x", $0) }.joined()
        signer = JWTSigner(secret: secret)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: [ServiceKind: Int] = [:]
        for kind in ServiceKind.allCases { ports[kind] = freePort() }
        self.ports = ports
        var base = ProcessInfo.processInfo.environment
        base["CONCIERGE_JWT_SECRET"] = secret
        base["HOST"] = "127.0.0.1"
        base["LOG_LEVEL"] = "info"
        // Tests stand in for external CRMs with stubs on 127.0.0.1, as a suite run on one machine
        // does (`concierge up` sets the same); a test of the default passes "false".
        base["CONCIERGE_ALLOW_PRIVATE_TARGETS"] = "true"
        for kind in ServiceKind.allCases { base[kind.urlVariable] = "http://127.0.0.1:\(ports[kind] ?? 0)" }
        base.merge(extraEnvironment) { _, new in new }
        var services: [ServiceKind: RunningService] = [:]
        for kind in kinds {
            var env = base
            let port = ports[kind] ?? 0
            env["PORT"] = String(port)
            let database = directory.appendingPathComponent("\(kind.rawValue).sqlite").path
            env["DATABASE_PATH"] = database
            services[kind] = RunningService(
                kind: kind, port: port, databasePath: database, environment: env,
                logPath: directory.appendingPathComponent("\(kind.rawValue).log").path)
        }
        self.services = services
    }

    /// A cluster of services made elsewhere (the compose deployment), sharing `secret`.
    init(secret: String, directory: URL, ports: [ServiceKind: Int], services: [ServiceKind: RunningService]) {
        self.secret = secret
        signer = JWTSigner(secret: secret)
        self.directory = directory
        self.ports = ports
        self.services = services
    }

    public func service(_ kind: ServiceKind) throws -> RunningService {
        guard let service = services[kind] else { throw HarnessError.notStarted(kind) }
        return service
    }

    public func url(_ kind: ServiceKind) -> String { "http://127.0.0.1:\(ports[kind] ?? 0)" }

    /// A token for `role`; `sub` defaults to the role name.
    public func token(_ role: Role, sub: String? = nil, ttl: Int = 3600) -> String {
        signer.mint(sub: sub ?? role.rawValue, role: role, ttl: ttl)
    }

    public func contacts(as role: Role = .administrator, sub: String? = nil) -> ContactsClient {
        ContactsClient(baseURL: url(.contacts), tokens: .fixed(token(role, sub: sub)))
    }

    public func routing(as role: Role = .administrator, sub: String? = nil) -> RoutingClient {
        RoutingClient(baseURL: url(.routing), tokens: .fixed(token(role, sub: sub)))
    }

    /// A raw client for hand-made requests (bad bodies, missing tokens).
    public func raw(_ kind: ServiceKind, token: String? = nil) -> ServiceClient {
        ServiceClient(baseURL: url(kind), tokens: token.map { .fixed($0) })
    }

    /// Moves the wall clock of every started service forward by `seconds` (start them with
    /// `environment: ["CONCIERGE_TEST_CLOCK": "true"]`): the timers due by then fire without a request.
    public func advanceClock(by seconds: Double) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services.values {
                group.addTask { try await service.advanceClock(by: seconds) }
            }
            try await group.waitForAll()
        }
    }

    func startAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services.values { group.addTask { try await service.start() } }
            try await group.waitForAll()
        }
    }

    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for service in services.values { group.addTask { await service.stop() } }
        }
        if ProcessInfo.processInfo.environment["CONCIERGE_KEEP_TEST_DATA"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

/// Starts the given services, runs `body`, and always stops them and removes their data.
public func withServices<T: Sendable>(
    _ kinds: [ServiceKind], environment: [String: String] = [:], _ body: (TestCluster) async throws -> T
) async throws -> T {
    let cluster = try TestCluster(kinds, extraEnvironment: environment)
    do {
        try await cluster.startAll()
        let result = try await body(cluster)
        await cluster.stopAll()
        return result
    } catch {
        await cluster.stopAll()
        throw error
    }
}

extension TestCluster {
    public func conversations(as role: Role = .administrator, sub: String? = nil) -> ConversationsClient {
        ConversationsClient(baseURL: url(.conversations), tokens: .fixed(token(role, sub: sub)))
    }
}

extension TestCluster {
    public func crmLookup(as role: Role = .administrator, sub: String? = nil) -> CRMLookupClient {
        CRMLookupClient(baseURL: url(.crmLookup), tokens: .fixed(token(role, sub: sub)))
    }
}
