import ConciergeLogging
import Foundation
import Glibc

/// A service's settings from its environment, validated as a whole (SPEC §1: the same variables in every
/// service; a bad value stops it at start, naming the variable).
public struct ServiceConfig: Sendable, Equatable {
    public var service: String
    public var host: String
    public var port: Int
    public var databasePath: String
    /// From `CONCIERGE_JWT_SECRET`, or the file `CONCIERGE_JWT_SECRET_FILE` names.
    public var jwtSecret: String
    public var contactsURL: String
    public var conversationsURL: String
    public var routingURL: String
    public var crmLookupURL: String
    public var logLevel: LogLevel
    /// WAL length in frames (pages) past which the database's background pass rewinds its write-ahead
    /// log (`CONCIERGE_WAL_REWIND_FRAMES`, default 16,384: 64 MiB of 4 KiB pages). Lower keeps the
    /// `-wal` file smaller on a tight disk at the cost of more frequent short write pauses.
    public var walRewindFrames: Int = defaultWALRewindFrames
    /// Browser origins allowed to call the service (`CONCIERGE_CORS_ORIGINS`): exact origins such as
    /// `https://desk.example.com`, lower-cased and without a default port, or `["*"]` for any; empty
    /// (the default) turns CORS off.
    public var corsOrigins: [String] = []
    /// Whether URLs an administrator configures (CRM sources) may lead to loopback, private, shared
    /// (CGNAT) and unspecified addresses (`CONCIERGE_ALLOW_PRIVATE_TARGETS`, default false). Link-local
    /// addresses, where cloud metadata services answer, are refused whatever it says.
    public var allowPrivateTargets = false

    public static let defaultWALRewindFrames = 16_384
    /// How long events are kept, in hours (`CONCIERGE_EVENT_RETENTION_HOURS`, default 168: a week).
    /// Fractions are allowed (0.01 is 36 s), so that a test can see retention at work.
    public var eventRetentionHours: Double = defaultEventRetentionHours

    public static let defaultEventRetentionHours = 168.0
    /// Seconds between a webhook's failed delivery and the next try (`CONCIERGE_WEBHOOK_RETRY_SCHEDULE`,
    /// comma-separated; the last repeats). Default 5, 30, 120, 600, 1800, 3600, 7200.
    public var webhookRetryDelays: [Double] = defaultWebhookRetryDelays
    /// Hours a webhook may fail before the service disables it (`CONCIERGE_WEBHOOK_RETRY_HOURS`, default 24).
    public var webhookRetryHours: Double = 24
    /// Whether an administrator may move this process's wall clock forward (`CONCIERGE_TEST_CLOCK`,
    /// default false): `POST /v1/admin/clock`, for tests of timers measured in hours. Never in production.
    public var testClock = false

    public static let defaultWebhookRetryDelays: [Double] = [5, 30, 120, 600, 1800, 3600, 7200]

    /// A bad setting: the variable and why.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let variable: String
        public let reason: String
        public var description: String { "\(variable): \(reason)" }
        public init(variable: String, reason: String) {
            self.variable = variable
            self.reason = reason
        }
    }

    public static let defaultPorts = ["contacts": 8081, "conversations": 8082, "routing": 8083, "crm-lookup": 8084]

    /// Reads and checks the environment; pure, so tests call it with a dictionary.
    public static func load(service: String, from env: [String: String]) throws(Invalid) -> ServiceConfig {
        let defaultPort = defaultPorts[service] ?? 8080
        let host = env["HOST"] ?? "127.0.0.1"
        var address = in_addr()
        guard host == "localhost" || inet_pton(AF_INET, host, &address) == 1 else {
            throw Invalid(
                variable: "HOST", reason: "must be an IPv4 address (e.g. 0.0.0.0) or localhost, got \"\(host)\"")
        }
        var port = defaultPort
        if let text = env["PORT"] {
            guard let value = Int(text), (0...65535).contains(value) else {
                throw Invalid(variable: "PORT", reason: "must be a number from 0 to 65535, got \"\(text)\"")
            }
            port = value
        }
        let databasePath = env["DATABASE_PATH"] ?? "./data/\(service).sqlite"
        try checkWritableFolder(of: databasePath)
        let secret = try jwtSecret(env)
        var level = LogLevel.info
        if let text = env["LOG_LEVEL"] {
            guard let parsed = LogLevel(name: text) else {
                throw Invalid(variable: "LOG_LEVEL", reason: "must be debug, info, warning or error, got \"\(text)\"")
            }
            level = parsed
        }
        var walRewindFrames = defaultWALRewindFrames
        if let text = env["CONCIERGE_WAL_REWIND_FRAMES"] {
            guard let value = Int(text), (16...16_777_216).contains(value) else {
                throw Invalid(
                    variable: "CONCIERGE_WAL_REWIND_FRAMES",
                    reason: "must be a number from 16 to 16777216, got \"\(text)\"")
            }
            walRewindFrames = value
        }
        var eventRetentionHours = defaultEventRetentionHours
        if let text = env["CONCIERGE_EVENT_RETENTION_HOURS"] {
            guard let value = Double(text), value.isFinite, value >= 0.0001, value <= 87_600 else {
                throw Invalid(
                    variable: "CONCIERGE_EVENT_RETENTION_HOURS",
                    reason: "must be a number of hours from 0.0001 to 87600, got \"\(text)\"")
            }
            eventRetentionHours = value
        }
        var webhookRetryDelays = defaultWebhookRetryDelays
        if let text = env["CONCIERGE_WEBHOOK_RETRY_SCHEDULE"] {
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
            guard !values.isEmpty, values.count <= 50,
                values.allSatisfy({ $0.map { $0.isFinite && $0 >= 0.01 && $0 <= 86_400 } ?? false })
            else {
                throw Invalid(
                    variable: "CONCIERGE_WEBHOOK_RETRY_SCHEDULE",
                    reason: "must be 1 to 50 comma-separated seconds from 0.01 to 86400, got \"\(text)\"")
            }
            webhookRetryDelays = values.compactMap { $0 }
        }
        var webhookRetryHours = 24.0
        if let text = env["CONCIERGE_WEBHOOK_RETRY_HOURS"] {
            guard let value = Double(text), value.isFinite, value >= 0.0001, value <= 720 else {
                throw Invalid(
                    variable: "CONCIERGE_WEBHOOK_RETRY_HOURS",
                    reason: "must be a number of hours from 0.0001 to 720, got \"\(text)\"")
            }
            webhookRetryHours = value
        }
        var allowPrivateTargets = false
        if let text = env["CONCIERGE_ALLOW_PRIVATE_TARGETS"] {
            switch text {
            case "true": allowPrivateTargets = true
            case "false": allowPrivateTargets = false
            default:
                throw Invalid(
                    variable: "CONCIERGE_ALLOW_PRIVATE_TARGETS", reason: "must be true or false, got \"\(text)\"")
            }
        }
        var testClock = false
        if let text = env["CONCIERGE_TEST_CLOCK"] {
            switch text {
            case "true": testClock = true
            case "false": testClock = false
            default: throw Invalid(variable: "CONCIERGE_TEST_CLOCK", reason: "must be true or false, got \"\(text)\"")
            }
        }
        return ServiceConfig(
            service: service, host: host, port: port, databasePath: databasePath, jwtSecret: secret,
            contactsURL: try url(env, "CONTACTS_URL", defaultPort: 8081),
            conversationsURL: try url(env, "CONVERSATIONS_URL", defaultPort: 8082),
            routingURL: try url(env, "ROUTING_URL", defaultPort: 8083),
            crmLookupURL: try url(env, "CRM_LOOKUP_URL", defaultPort: 8084),
            logLevel: level, walRewindFrames: walRewindFrames,
            corsOrigins: try corsOrigins(env["CONCIERGE_CORS_ORIGINS"] ?? ""), allowPrivateTargets: allowPrivateTargets,
            eventRetentionHours: eventRetentionHours, webhookRetryDelays: webhookRetryDelays,
            webhookRetryHours: webhookRetryHours, testClock: testClock)
    }

    /// `CONCIERGE_CORS_ORIGINS`: empty, `*`, or a comma-separated list of origins — `http` or `https`,
    /// a host and an optional port, nothing after it (no path, not even `/`), as a browser sends them in
    /// `Origin`. Each is lower-cased and loses a default port (`:443` for https, `:80` for http).
    static func corsOrigins(_ text: String) throws(Invalid) -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if items == [""] { return [] }
        if items == ["*"] { return ["*"] }
        var origins: [String] = []
        for item in items {
            guard let origin = origin(item) else {
                let reason =
                    item == "*"
                    ? "* allows every origin and cannot be listed with others"
                    : "must be * or comma-separated origins such as https://desk.example.com (scheme, host and "
                        + "optional port; no path), got \"\(item)\""
                throw Invalid(variable: "CONCIERGE_CORS_ORIGINS", reason: reason)
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }

    /// One origin as a browser serialises it, or nil if `text` is not one.
    private static func origin(_ text: String) -> String? {
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") {
            scheme = "https"
        } else if lowered.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        let authority = lowered.dropFirst(scheme.count + 3)
        let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let host = parts[0]
        let hostBytes = Set("abcdefghijklmnopqrstuvwxyz0123456789.-".utf8)
        guard !host.isEmpty, host.utf8.allSatisfy(hostBytes.contains), !host.hasPrefix("."), !host.hasPrefix("-")
        else { return nil }
        guard parts.count == 2 else { return "\(scheme)://\(host)" }
        guard parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let port = Int(parts[1]),
            (1...65535).contains(port)
        else { return nil }
        let isDefault = (scheme == "https" && port == 443) || (scheme == "http" && port == 80)
        return isDefault ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)"
    }

    /// `load` from the process environment; on a bad value prints one line naming it and exits 2.
    public static func fromEnvironmentOrExit(service: String) -> ServiceConfig {
        do {
            return try load(service: service, from: ProcessInfo.processInfo.environment)
        } catch {
            exit(service: service, error)
        }
    }

    /// Prints one line naming the bad variable and exits 2 (SPEC §1); also for a value found bad only
    /// when used (a `DATABASE_PATH` that SQLite cannot open, or that this process cannot write).
    public static func exit(service: String, _ error: Invalid) -> Never {
        FileHandle.standardError.write(Data("concierge-\(service): invalid configuration: \(error)\n".utf8))
        Glibc.exit(2)
    }

    /// `CONCIERGE_JWT_SECRET`, or what the file named by `CONCIERGE_JWT_SECRET_FILE` holds (a compose
    /// or Kubernetes secret, which stays out of the environment that `docker inspect` and
    /// `/proc/<pid>/environ` show), without its surrounding whitespace; never both. At least 32 bytes.
    private static func jwtSecret(_ env: [String: String]) throws(Invalid) -> String {
        let value = env["CONCIERGE_JWT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        let file = env["CONCIERGE_JWT_SECRET_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let secret: String
        let variable: String
        switch (value, file) {
        case (.some, .some):
            throw Invalid(
                variable: "CONCIERGE_JWT_SECRET_FILE",
                reason: "set either CONCIERGE_JWT_SECRET or CONCIERGE_JWT_SECRET_FILE, not both")
        case (let value?, nil):
            (secret, variable) = (value, "CONCIERGE_JWT_SECRET")
        case (nil, let path?):
            (secret, variable) = (try readSecret(path), "CONCIERGE_JWT_SECRET_FILE")
        case (nil, nil):
            throw Invalid(
                variable: "CONCIERGE_JWT_SECRET",
                reason: "is required (at least 32 bytes), or CONCIERGE_JWT_SECRET_FILE naming a file that holds it; "
                    + "`concierge up` creates one in ./data/jwt-secret")
        }
        guard secret.utf8.count >= 32 else {
            throw Invalid(variable: variable, reason: "the secret must be at least 32 bytes, got \(secret.utf8.count)")
        }
        return secret
    }

    private static func readSecret(_ path: String) throws(Invalid) -> String {
        // open(2) first, for the reason a read fails (no such file, permission denied).
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Invalid(
                variable: "CONCIERGE_JWT_SECRET_FILE",
                reason: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(variable: "CONCIERGE_JWT_SECRET_FILE", reason: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func url(_ env: [String: String], _ name: String, defaultPort: Int) throws(Invalid) -> String {
        guard let text = env[name] else { return "http://127.0.0.1:\(defaultPort)" }
        guard let url = URL(string: text), url.scheme == "http", url.host != nil else {
            throw Invalid(variable: name, reason: "must be an http:// URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    private static func checkWritableFolder(of path: String) throws(Invalid) {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Invalid(variable: "DATABASE_PATH", reason: "cannot create folder \(directory)")
        }
        guard access(directory, W_OK) == 0 else {
            throw Invalid(variable: "DATABASE_PATH", reason: "folder \(directory) is not writable")
        }
    }
}
