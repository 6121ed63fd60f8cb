import Foundation

/// Why a compose file could not be read or mapped: what was not understood, and where.
public struct ComposeError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}

/// The parts of a docker-compose file that decide how the services run and find each other,
/// read strictly: a key this reader does not know, or a form of a known key it does not
/// understand, is an error rather than something silently skipped.
public struct ComposeFile: Sendable {
    /// One published port, `[host_ip:][host_port:]container_port`.
    public struct Port: Sendable, Equatable {
        public var hostIP: String?
        public var hostPort: Int?
        public var containerPort: Int
    }

    /// A named volume mounted at `target` (short syntax `name:/path[:mode]`).
    public struct Mount: Sendable, Equatable {
        public var volume: String
        public var target: String
    }

    public struct Service: Sendable {
        public var name: String
        /// `entrypoint` followed by `command`: the argv the container runs (the image has no ENTRYPOINT).
        public var argv: [String]
        /// The environment after `${VAR}` interpolation, exactly as the container gets it.
        public var environment: [String: String]
        public var ports: [Port]
        public var mounts: [Mount]
        /// Service name → `condition` (`service_started` for the list form).
        public var dependsOn: [String: String]
        /// The health check's command (`CMD` form, without `CMD`).
        public var healthcheck: [String]?
        /// `stop_grace_period` in seconds, if given.
        public var stopGraceSeconds: Double?
        /// Secrets mounted at `/run/secrets/<name>` (short syntax).
        public var secrets: [String]
    }

    public var services: [String: Service]
    public var volumes: Set<String>
    /// File secrets: name → the host file, as written (relative to the compose file's folder).
    public var secrets: [String: String]

    /// Service keys this reader knows. Keys that only shape the image or the restart policy are
    /// accepted without effect on a local run; anything else (env_file, network_mode, links…)
    /// could change what a service sees, so it is refused.
    static let knownServiceKeys: Set<String> = [
        "image", "build", "restart", "stop_grace_period", "init", "command", "entrypoint", "environment", "volumes",
        "ports",
        "depends_on", "healthcheck", "secrets",
    ]

    /// Reads `path`, substituting `${VAR}` references from `variables` (and nothing else: no
    /// shell environment, no `.env` file), so a test controls every value.
    public init(path: String, variables: [String: String]) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let root: YAMLNode
        do { root = try YAMLSubsetReader.read(text) } catch { throw ComposeError(path, "\(error)") }
        try self.init(root, variables: variables)
    }

    init(_ root: YAMLNode, variables: [String: String]) throws {
        let top = try Self.mapping(root, "(top level)")
        for key in top.keys where !["name", "services", "volumes", "secrets"].contains(key) && !key.hasPrefix("x-") {
            throw ComposeError(key, "top-level key not understood by this reader")
        }
        volumes = Set(try top["volumes"].map { try Self.mapping($0, "volumes").keys } ?? [])
        var secrets: [String: String] = [:]
        let secretsNode = try Self.mapping(top["secrets"] ?? .null, "secrets")
        for name in secretsNode.keys {
            let entry = try Self.mapping(secretsNode[name] ?? .null, "secrets.\(name)")
            // `environment:` and `external:` secrets would come from elsewhere than a file the test can stand in for.
            guard entry.keys == ["file"], let file = entry["file"]?.scalarValue else {
                throw ComposeError("secrets.\(name)", "only `file:` secrets are understood by this reader")
            }
            secrets[name] = try Self.interpolate(file, variables, "secrets.\(name).file")
        }
        self.secrets = secrets
        let servicesNode = try Self.mapping(top["services"] ?? .null, "services")
        var services: [String: Service] = [:]
        for name in servicesNode.keys {
            services[name] = try Self.service(name, servicesNode[name] ?? .null, variables: variables)
        }
        self.services = services
        for service in services.values {
            for dependency in service.dependsOn.keys where services[dependency] == nil {
                throw ComposeError("services.\(service.name).depends_on", "unknown service \(dependency)")
            }
            for mount in service.mounts where !volumes.contains(mount.volume) {
                throw ComposeError(
                    "services.\(service.name).volumes", "volume \(mount.volume) is not declared at the top level")
            }
            for secret in service.secrets where secrets[secret] == nil {
                throw ComposeError(
                    "services.\(service.name).secrets", "secret \(secret) is not declared at the top level")
            }
        }
    }

    /// Service names so that each comes after everything it `depends_on`; ties by name.
    public func startOrder() throws -> [String] {
        var order: [String] = []
        var placed: Set<String> = []
        while order.count < services.count {
            let ready = services.values.filter {
                !placed.contains($0.name) && $0.dependsOn.keys.allSatisfy(placed.contains)
            }
            guard !ready.isEmpty else {
                throw ComposeError(
                    "services", "depends_on has a cycle among \(Set(services.keys).subtracting(placed).sorted())")
            }
            for name in ready.map(\.name).sorted() {
                order.append(name)
                placed.insert(name)
            }
        }
        return order
    }

    // MARK: - One service

    private static func service(_ name: String, _ node: YAMLNode, variables: [String: String]) throws -> Service {
        let path = "services.\(name)"
        let map = try mapping(node, path)
        for key in map.keys where !knownServiceKeys.contains(key) {
            throw ComposeError("\(path).\(key)", "service key not understood by this reader")
        }
        func strings(_ key: String) throws -> [String]? {
            try map[key].map {
                try stringList($0, "\(path).\(key)").map { try interpolate($0, variables, "\(path).\(key)") }
            }
        }
        let argv = (try strings("entrypoint") ?? []) + (try strings("command") ?? [])
        return Service(
            name: name, argv: argv,
            environment: try environment(map["environment"], path: "\(path).environment", variables: variables),
            ports: try (strings("ports") ?? []).map { try port($0, "\(path).ports") },
            mounts: try (strings("volumes") ?? []).map { try mount($0, "\(path).volumes") },
            dependsOn: try dependsOn(map["depends_on"], path: "\(path).depends_on"),
            healthcheck: try healthcheck(map["healthcheck"], path: "\(path).healthcheck", variables: variables),
            stopGraceSeconds: try map["stop_grace_period"].map { try duration($0, "\(path).stop_grace_period") },
            // Short syntax only: the long one's target, uid, gid and mode are not understood.
            secrets: try map["secrets"].map { try stringList($0, "\(path).secrets") } ?? [])
    }

    /// `environment:` as a map (`KEY: value`) or a list (`- KEY=value`). A key with no value takes
    /// the host's variable in Compose; that is refused here, as the test could not reproduce it.
    private static func environment(_ node: YAMLNode?, path: String, variables: [String: String]) throws -> [String:
        String]
    {
        var result: [String: String] = [:]
        switch node {
        case nil: break
        case .mapping(let map)?:
            for key in map.keys {
                guard let value = map[key]?.scalarValue else {
                    throw ComposeError(
                        "\(path).\(key)", "needs a scalar value (a bare key passes the host's variable through)")
                }
                result[key] = try interpolate(value, variables, "\(path).\(key)")
            }
        case .sequence(let items)?:
            for (index, item) in items.enumerated() {
                guard let text = item.scalarValue, let equals = text.firstIndex(of: "=") else {
                    throw ComposeError("\(path)[\(index)]", "expected KEY=value")
                }
                let key = String(text[..<equals])
                guard result[key] == nil else { throw ComposeError("\(path)[\(index)]", "duplicate variable \(key)") }
                result[key] = try interpolate(
                    String(text[text.index(after: equals)...]), variables, "\(path)[\(index)]")
            }
        default: throw ComposeError(path, "must be a mapping or a list")
        }
        return result
    }

    private static func dependsOn(_ node: YAMLNode?, path: String) throws -> [String: String] {
        switch node {
        case nil: return [:]
        case .sequence(let items)?:
            return Dictionary(
                uniqueKeysWithValues: try items.enumerated().map { index, item in
                    guard let name = item.scalarValue else {
                        throw ComposeError("\(path)[\(index)]", "expected a service name")
                    }
                    return (name, "service_started")
                })
        case .mapping(let map)?:
            var result: [String: String] = [:]
            for name in map.keys {
                let entry = try mapping(map[name] ?? .null, "\(path).\(name)")
                for key in entry.keys where key != "condition" {
                    throw ComposeError("\(path).\(name).\(key)", "not understood by this reader")
                }
                let condition = entry["condition"]?.scalarValue ?? "service_started"
                guard ["service_started", "service_healthy", "service_completed_successfully"].contains(condition)
                else {
                    throw ComposeError("\(path).\(name).condition", "unknown condition \(condition)")
                }
                result[name] = condition
            }
            return result
        default: throw ComposeError(path, "must be a list or a mapping")
        }
    }

    private static func healthcheck(_ node: YAMLNode?, path: String, variables: [String: String]) throws -> [String]? {
        guard let node else { return nil }
        let map = try mapping(node, path)
        for key in map.keys where !["test", "interval", "timeout", "retries", "start_period"].contains(key) {
            throw ComposeError("\(path).\(key)", "not understood by this reader")
        }
        let test = try stringList(map["test"] ?? .null, "\(path).test").map {
            try interpolate($0, variables, "\(path).test")
        }
        guard test.first == "CMD", test.count > 1 else {
            throw ComposeError("\(path).test", "only the [\"CMD\", …] form is understood")
        }
        return Array(test.dropFirst())
    }

    // MARK: - Values

    /// A list of scalars, or one scalar that is a single word (Compose would shell-split anything longer).
    private static func stringList(_ node: YAMLNode, _ path: String) throws -> [String] {
        switch node {
        case .sequence(let items):
            return try items.enumerated().map { index, item in
                guard let text = item.scalarValue else { throw ComposeError("\(path)[\(index)]", "expected a scalar") }
                return text
            }
        case .scalar(let text) where !text.contains(" "):
            return [text]
        default:
            throw ComposeError(
                path, "expected a list of strings (a string with spaces would be shell-split; not understood)")
        }
    }

    private static func port(_ text: String, _ path: String) throws -> Port {
        guard !text.contains("/"), !text.contains("-") else {
            throw ComposeError(path, "protocols and ranges not understood: \(text)")
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let numbers = parts.suffix(2).compactMap { Int($0) }
        switch (parts.count, numbers.count) {
        case (1, 1): return Port(hostIP: nil, hostPort: nil, containerPort: numbers[0])
        case (2, 2): return Port(hostIP: nil, hostPort: numbers[0], containerPort: numbers[1])
        case (3, 2): return Port(hostIP: parts[0], hostPort: numbers[0], containerPort: numbers[1])
        default: throw ComposeError(path, "port mapping not understood: \(text)")
        }
    }

    private static func mount(_ text: String, _ path: String) throws -> Mount {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && ["ro", "rw"].contains(parts[2])), let source = parts.first,
            !source.hasPrefix("/"), !source.hasPrefix("."), !source.hasPrefix("~"), parts[1].hasPrefix("/")
        else { throw ComposeError(path, "only named volumes (`name:/path`) are understood: \(text)") }
        return Mount(volume: source, target: parts[1])
    }

    /// `15s`, `1m30s`, `500ms`, `1h`.
    private static func duration(_ node: YAMLNode, _ path: String) throws -> Double {
        guard var text = node.scalarValue, !text.isEmpty else { throw ComposeError(path, "expected a duration") }
        var seconds = 0.0
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("h", 3600), ("m", 60), ("s", 1)]
        while !text.isEmpty {
            let digits = text.prefix { $0.isNumber || $0 == "." }
            text.removeFirst(digits.count)
            guard let value = Double(digits), let unit = units.first(where: { text.hasPrefix($0.0) }) else {
                throw ComposeError(path, "duration not understood: \(node.scalarValue ?? "")")
            }
            text.removeFirst(unit.0.count)
            seconds += value * unit.1
        }
        return seconds
    }

    private static func mapping(_ node: YAMLNode, _ path: String) throws -> YAMLMapping {
        switch node {
        case .mapping(let map): return map
        case .null: return YAMLMapping()
        default: throw ComposeError(path, "expected a mapping")
        }
    }

    // MARK: - Interpolation

    /// Compose's `${VAR}` syntax: `$$` is `$`; `${VAR}` and `$VAR` must be set; `${VAR:-x}` / `${VAR-x}`
    /// default when unset-or-empty / unset; `${VAR:?msg}` / `${VAR?msg}` fail with `msg`. Nothing
    /// else (`${VAR:+x}`, nesting) is understood.
    public static func interpolate(_ text: String, _ variables: [String: String], _ path: String) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                result += "$"
                rest = rest.dropFirst()
                continue
            }
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else {
                    throw ComposeError(path, "unterminated ${ in \(text)")
                }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                result += try substitute(inner, variables, path)
                continue
            }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !name.isEmpty else { throw ComposeError(path, "a lone $ in \(text) (write $$)") }
            rest = rest.dropFirst(name.count)
            guard let value = variables[String(name)] else { throw ComposeError(path, "variable \(name) is not set") }
            result += value
        }
        return result + rest
    }

    private static func substitute(_ inner: Substring, _ variables: [String: String], _ path: String) throws -> String {
        let name = String(inner.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        let operation = inner.dropFirst(name.count)
        guard !name.isEmpty, !operation.contains("$") else { throw ComposeError(path, "${\(inner)} is not understood") }
        let value = variables[name]
        let emptyCounts = operation.hasPrefix(":")
        let missing = value == nil || (emptyCounts && value?.isEmpty == true)
        let modifier = emptyCounts ? operation.dropFirst() : operation
        if emptyCounts && modifier.isEmpty { throw ComposeError(path, "${\(inner)} is not understood") }
        switch modifier.first {
        case nil:
            guard let value else { throw ComposeError(path, "variable \(name) is not set") }
            return value
        case "-": return missing ? String(modifier.dropFirst()) : (value ?? "")
        case "?":
            if missing { throw ComposeError(path, "required variable \(name): \(modifier.dropFirst())") }
            return value ?? ""
        default: throw ComposeError(path, "${\(inner)} is not understood")
        }
    }
}
