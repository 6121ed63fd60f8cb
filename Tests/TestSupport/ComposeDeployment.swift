import ConciergeAuth
import Foundation

/// `compose/docker-compose.yml` mapped onto this machine, changing only what a machine without
/// Docker must: each service's container port becomes a free local port (in its own `PORT` and in
/// every `http://<service>:<port>` URL the others get), its named volumes become folders in a temp
/// directory (`DATABASE_PATH` moves with them), its file secrets become files in that directory
/// holding the test's values (a `/run/secrets/<name>` in its environment moves with them), and
/// `${VAR}`s come from the test. Everything else
/// — `HOST=0.0.0.0` included — is passed exactly as compose gives it, and nothing else is passed:
/// the process environment is the service's compose environment, not the test runner's.
public struct ComposeDeployment: Sendable {
    public struct Service: Sendable {
        /// The compose service name, which is also its host name on the compose network.
        public let name: String
        public let kind: ServiceKind
        /// The environment compose gives the container (interpolated).
        public let composeEnvironment: [String: String]
        /// The environment the local process gets.
        public let environment: [String: String]
        /// The port the service listens on inside its container (its `PORT`, or the default).
        public let containerPort: Int
        public let localPort: Int
        /// Ports compose publishes on the host.
        public let published: [ComposeFile.Port]
        /// Service name → condition, from `depends_on`.
        public let dependsOn: [String: String]
        /// The health check's command with its URL mapped to the local port (`concierge probe …`).
        public let healthcheck: [String]
        public let stopGraceSeconds: Double?
        let databasePath: String
    }

    /// Services in the order `depends_on` implies.
    public let services: [Service]
    public let directory: URL

    public func service(_ kind: ServiceKind) -> Service? { services.first { $0.kind == kind } }

    /// Default ports (SPEC §1), for a service whose compose environment sets no `PORT`.
    private static let defaultPorts: [ServiceKind: Int] = [
        .contacts: 8081, .conversations: 8082, .routing: 8083, .crmLookup: 8084,
    ]

    /// Reads the compose file and maps it; throws on anything that cannot be mapped faithfully.
    /// - Parameter secrets: what each file secret of the compose file holds for the test, by name.
    public static func plan(
        composeFile path: String, variables: [String: String], secrets: [String: String] = [:], directory: URL
    ) throws -> ComposeDeployment {
        let file = try ComposeFile(path: path, variables: variables)
        let secretFiles = try writeSecrets(file, values: secrets, directory: directory)
        let order = try file.startOrder()
        var kinds: [String: ServiceKind] = [:]
        var containerPorts: [String: Int] = [:]
        var localPorts: [String: Int] = [:]
        for name in order {
            let service = file.services[name]!  // `order` lists exactly the file's services.
            guard service.argv.count == 1,
                let kind = ServiceKind.allCases.first(where: { $0.executable == service.argv[0] })
            else {
                throw ComposeError(
                    "services.\(name).command", "expected one Concierge service executable, got \(service.argv)")
            }
            guard !kinds.values.contains(kind) else {
                throw ComposeError("services.\(name)", "a second \(kind.executable)")
            }
            kinds[name] = kind
            if let text = service.environment["PORT"] {
                guard let port = Int(text) else {
                    throw ComposeError("services.\(name).environment.PORT", "not a number: \(text)")
                }
                containerPorts[name] = port
            } else {
                containerPorts[name] = defaultPorts[kind]
            }
            localPorts[name] = freePort()
        }
        var services: [Service] = []
        for name in order {
            let service = file.services[name]!  // As above.
            let path = "services.\(name)"
            var environment: [String: String] = [:]
            for (key, value) in service.environment {
                environment[key] = try mapSecret(
                    try mapURL(
                        value, containerPorts: containerPorts, localPorts: localPorts, "\(path).environment.\(key)"),
                    service: service, files: secretFiles, "\(path).environment.\(key)")
            }
            let databasePath = try mapDatabase(service, directory: directory)
            environment["DATABASE_PATH"] = databasePath
            environment["PORT"] = String(localPorts[name] ?? 0)
            services.append(
                Service(
                    // `kinds[name]` was set above.
                    name: name, kind: kinds[name]!, composeEnvironment: service.environment, environment: environment,
                    containerPort: containerPorts[name] ?? 0, localPort: localPorts[name] ?? 0,
                    published: service.ports,
                    dependsOn: service.dependsOn,
                    healthcheck: try mapHealthcheck(
                        service, ownPort: containerPorts[name] ?? 0, localPort: localPorts[name] ?? 0),
                    stopGraceSeconds: service.stopGraceSeconds, databasePath: databasePath))
        }
        return ComposeDeployment(services: services, directory: directory)
    }

    /// `http://<service>:<port>…` → `http://127.0.0.1:<local port>…`. A URL naming a compose
    /// service on a port it does not listen on could never work, so it is an error; other values
    /// (and URLs of hosts that are not services) pass unchanged.
    private static func mapURL(
        _ value: String, containerPorts: [String: Int], localPorts: [String: Int], _ path: String
    ) throws -> String {
        guard value.hasPrefix("http://") else { return value }
        let rest = value.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        let host = String(parts[0])
        guard let listening = containerPorts[host], let local = localPorts[host] else { return value }
        let port = parts.count == 2 ? Int(parts[1]) : (parts.count == 1 ? 80 : nil)
        guard port == listening else {
            throw ComposeError(path, "\(value) names service \(host), which listens on port \(listening)")
        }
        return "http://127.0.0.1:\(local)" + rest.dropFirst(authority.count)
    }

    /// Each file secret becomes `<directory>/secrets/<name>` (mode 0600) holding the test's value.
    private static func writeSecrets(
        _ file: ComposeFile, values: [String: String], directory: URL
    ) throws -> [String: String] {
        var files: [String: String] = [:]
        let folder = directory.appendingPathComponent("secrets")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in file.secrets.keys.sorted() {
            guard let value = values[name] else {
                throw ComposeError("secrets.\(name)", "the test gave no value for it")
            }
            let path = folder.appendingPathComponent(name).path
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ComposeError("secrets.\(name)", "cannot write \(path)") }
            files[name] = path
        }
        return files
    }

    /// `/run/secrets/<name>` → the secret's local file. The service must mount that secret, or the
    /// container would have no such file.
    private static func mapSecret(
        _ value: String, service: ComposeFile.Service, files: [String: String], _ path: String
    ) throws -> String {
        let prefix = "/run/secrets/"
        guard value.hasPrefix(prefix) else { return value }
        let name = String(value.dropFirst(prefix.count))
        guard service.secrets.contains(name), let file = files[name] else {
            throw ComposeError(path, "\(value): the service mounts no secret \(name)")
        }
        return file
    }

    /// `DATABASE_PATH` must lie in one of the service's named volumes (else the data would die with
    /// the container); the volume becomes `<directory>/volumes/<name>`.
    private static func mapDatabase(_ service: ComposeFile.Service, directory: URL) throws -> String {
        let path = "services.\(service.name).environment.DATABASE_PATH"
        guard let database = service.environment["DATABASE_PATH"] else { throw ComposeError(path, "not set") }
        let mount = service.mounts.filter { database.hasPrefix($0.target.hasSuffix("/") ? $0.target : $0.target + "/") }
            .max { $0.target.count < $1.target.count }
        guard let mount else {
            throw ComposeError(
                path, "\(database) is in no named volume of the service, so it would not survive the container")
        }
        let folder = directory.appendingPathComponent("volumes").appendingPathComponent(mount.volume)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let relative = database.dropFirst(mount.target.count).drop { $0 == "/" }
        return folder.appendingPathComponent(String(relative)).path
    }

    /// The health check must be `concierge probe http://127.0.0.1:<own port>/readyz`-like: a probe of
    /// the container itself on the port the service listens on; the port becomes the local one.
    private static func mapHealthcheck(_ service: ComposeFile.Service, ownPort: Int, localPort: Int) throws -> [String]
    {
        let path = "services.\(service.name).healthcheck.test"
        guard let command = service.healthcheck else {
            throw ComposeError(path, "missing: depends_on cannot wait for health")
        }
        guard command.count == 3, command[0] == "concierge", command[1] == "probe" else {
            throw ComposeError(path, "only `concierge probe URL` is understood, got \(command)")
        }
        for loopback in ["http://127.0.0.1:\(ownPort)/", "http://localhost:\(ownPort)/"]
        where command[2].hasPrefix(loopback) {
            return ["concierge", "probe", "http://127.0.0.1:\(localPort)/" + command[2].dropFirst(loopback.count)]
        }
        throw ComposeError(path, "\(command[2]) does not probe this container on its port \(ownPort)")
    }
}

/// Plans the compose deployment with a fresh token secret (the file secret `jwt-secret`), starts its services one by one in
/// `depends_on` order — each only once every dependency passed its compose health check, run for
/// real (`concierge probe`) — then runs `body` and always stops everything.
public func withComposeDeployment<T: Sendable>(
    _ composeFile: String, _ body: (TestCluster, ComposeDeployment) async throws -> T
) async throws -> T {
    let secret = Crypto.randomBytes(24).map { String(format: "%02x", $0) }.joined()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "concierge-compose-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let deployment: ComposeDeployment
    do {
        deployment = try ComposeDeployment.plan(
            composeFile: composeFile, variables: [:], secrets: ["jwt-secret": secret + "\n"], directory: directory)
    } catch {
        try? FileManager.default.removeItem(at: directory)
        throw error
    }
    var running: [ServiceKind: RunningService] = [:]
    for service in deployment.services {
        running[service.kind] = RunningService(
            kind: service.kind, port: service.localPort, databasePath: service.databasePath,
            environment: service.environment,
            logPath: directory.appendingPathComponent("\(service.name).log").path)
    }
    let cluster = TestCluster(
        secret: secret, directory: directory, ports: running.mapValues(\.port), services: running)
    do {
        var healthy: Set<String> = []
        for service in deployment.services {
            for (dependency, condition) in service.dependsOn where !healthy.contains(dependency) {
                throw HarnessError.dependencyNotHealthy(service.name, dependency: dependency, condition: condition)
            }
            try await cluster.service(service.kind).start()
            let status = try await runToExit(service.healthcheck, environment: service.environment, timeout: 10)
            guard status == 0 else {
                throw HarnessError.unhealthy(service.name, command: service.healthcheck, status: status)
            }
            healthy.insert(service.name)
        }
        let result = try await body(cluster, deployment)
        await cluster.stopAll()
        return result
    } catch {
        await cluster.stopAll()
        throw error
    }
}

/// Runs one of the built executables (`argv[0]`) to its end; its exit status, or -1 past `timeout`.
func runToExit(_ argv: [String], environment: [String: String], timeout: Double) async throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Binaries.path(argv[0]))
    process.arguments = Array(argv.dropFirst())
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        guard Date() < deadline else {
            process.terminate()
            return -1
        }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    return process.terminationStatus
}
