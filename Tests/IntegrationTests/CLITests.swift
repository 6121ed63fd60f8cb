import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Glibc
import TestSupport
import Testing

/// The real `concierge` binary: `token` (SPEC §2) and `up` (SPEC §8).
@Suite struct CLITests {
    private static let secret = "0123456789abcdef0123456789abcdef-cli-test"

    @Test func tokenCarriesTheRoleSubjectAndLifetimeAskedFor() throws {
        var environment = Self.cleanEnvironment
        environment["CONCIERGE_JWT_SECRET"] = Self.secret
        let before = Int(Date().timeIntervalSince1970)
        let result = try Self.runCLI(["token", "--role", "team_manager", "--sub", "u-42", "--ttl", "15m"], environment)
        let after = Int(Date().timeIntervalSince1970)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let claims = try JWTSigner(secret: Self.secret).verify(String(lines.first ?? ""))
        #expect(claims.role == .teamManager)
        #expect(claims.sub == "u-42")
        #expect((before + 900...after + 900).contains(claims.exp))
    }

    @Test(arguments: [("90s", 90), ("15m", 900), ("2d", 172_800), ("45", 45)])
    func ttlFormats(_ ttl: String, _ seconds: Int) throws {
        var environment = Self.cleanEnvironment
        environment["CONCIERGE_JWT_SECRET"] = Self.secret
        let now = Int(Date().timeIntervalSince1970)
        let result = try Self.runCLI(["token", "--role", "agent", "--ttl=\(ttl)"], environment)
        let claims = try JWTSigner(secret: Self.secret).verify(
            result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(abs(claims.exp - (now + seconds)) <= 5)
    }

    @Test func tokenDefaultsToTheRoleAsSubjectAndAnHourFromTheSecretFile() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let secretFile = folder.appendingPathComponent("jwt-secret").path
        let fileSecret = String(repeating: "ab", count: 32)
        try Data((fileSecret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let now = Int(Date().timeIntervalSince1970)
        let result = try Self.runCLI(
            ["token", "--role", "administrator", "--secret-file", secretFile], Self.cleanEnvironment)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let claims = try JWTSigner(secret: fileSecret).verify(
            result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(claims.role == .administrator)
        #expect(claims.sub == "administrator")
        #expect(abs(claims.exp - (now + 3600)) <= 5)
    }

    @Test(arguments: [
        ["token", "--role", "boss"],
        ["token", "--role", "agent", "--ttl", "5x"],
        ["token", "--role", "agent", "--ttl", "0"],
        ["token", "--role", "agent", "--ttl", "-5m"],
        ["token", "--role", "agent", "--ttl", "99999999999999999999d"],
        ["token", "--sub", "ada"],
        ["token", "--role"],
        ["token", "--role", "agent", "--colour", "red"],
        ["token", "--role", "agent", "--role", "service"],
        ["frobnicate"],
        ["backup"],
        ["backup", "one", "two"],
        ["restore"],
        ["restore", "backups", "--only", "billing"],
        ["restore", "backups", "--only", ""],
        ["restore", "backups", "--force", "yes"],
        ["status", "--verbose"],
        ["demo", "--forse"],
        ["demo", "--force", "--force"],
        ["events", "--service", "billing"],
        ["events", "--types", "Conversation.*"],
        ["events", "--follow", "--follow"],
        ["events", "--after", "12"],
        ["events", "--follow", "now"],
        ["up", "--data"],
        ["probe"],
        ["probe", "http://127.0.0.1:8081/readyz", "http://127.0.0.1:8082/readyz"],
        ["help", "frobnicate"],
    ])
    func badArgumentsExitTwoWithOneLineAndAPointerToHelp(_ arguments: [String]) throws {
        var environment = Self.cleanEnvironment
        environment["CONCIERGE_JWT_SECRET"] = Self.secret
        let result = try Self.runCLI(arguments, environment)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2, "the error and where help is, not the whole usage: \(result.stderr)")
        #expect(lines.first?.hasPrefix("concierge: ") == true)
        // A command's own words point at its own help; an unknown command at the whole usage.
        let command = arguments.first.flatMap { ["frobnicate", "help"].contains($0) ? nil : $0 }
        #expect(
            lines.last
                == (command.map { "Run 'concierge \($0) --help' for its options." }
                    ?? "Run 'concierge --help' for the commands and their options."))
    }

    /// SPEC §1: a bad value stops a service at start with one line naming the variable and exit 2 — also
    /// one found bad only when used: a database path SQLite cannot open, a host that is no IPv4 address.
    @Test(arguments: [
        ("DATABASE_PATH", "folder"), ("DATABASE_PATH", "not-a-database"), ("HOST", "999.1.1.1"), ("HOST", "::1"),
        ("CONCIERGE_CORS_ORIGINS", "https://desk.example.com/"),
    ])
    func serviceRefusesABadValueFoundAtStartWithOneLineAndExitTwo(_ variable: String, _ value: String) throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = Self.cleanEnvironment
        environment["CONCIERGE_JWT_SECRET"] = Self.secret
        environment["PORT"] = String(freePort())
        environment["DATABASE_PATH"] = folder.appendingPathComponent("routing.sqlite").path
        switch value {
        case "folder": environment["DATABASE_PATH"] = folder.path
        case "not-a-database":
            let file = folder.appendingPathComponent("notes.txt")
            try Data(String(repeating: "not SQLite\n", count: 500).utf8).write(to: file)
            environment["DATABASE_PATH"] = file.path
        default: environment[variable] = value
        }
        let result = try Self.runCLI([], environment, binary: "concierge-routing")
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            lines.first?.hasPrefix("concierge-routing: invalid configuration: \(variable): ") == true,
            "\(result.stderr)")
    }

    @Test(arguments: [[], ["help"], ["--help"], ["-h"]])
    func helpListsTheCommands(_ arguments: [String]) throws {
        let result = try Self.runCLI(arguments, Self.cleanEnvironment)
        #expect(result.status == 0)
        for command in ["concierge up", "concierge token", "concierge demo", "concierge events", "concierge probe"] {
            #expect(result.stdout.contains(command))
        }
    }

    /// `concierge up --help` is about `up`, not the whole usage.
    @Test(arguments: [
        ["up", "--help"], ["up", "-h"], ["help", "up"], ["up", "--data", "somewhere", "--help"], ["token", "-h"],
        ["demo", "--help"], ["events", "--help"], ["events", "--follow", "-h"],
    ])
    func aCommandsHelpIsItsOwn(_ arguments: [String]) throws {
        let result = try Self.runCLI(arguments, Self.cleanEnvironment)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let command = arguments.first == "help" ? arguments[1] : arguments[0]
        #expect(result.stdout.hasPrefix("concierge \(command) "), "\(result.stdout)")
        #expect(!result.stdout.contains("Commands:"), "the global usage: \(result.stdout)")
        for other in ["up", "token", "demo", "events"] where other != command {
            #expect(!result.stdout.contains("concierge \(other) "), "\(other)'s help in \(command)'s")
        }
        if command == "up" { #expect(result.stdout.contains("--data DIR") && result.stdout.contains("--bin DIR")) }
        if command == "events" {
            for option in ["--service NAME", "--types LIST", "--after POSITIONS", "--follow"] {
                #expect(result.stdout.contains(option), "\(option)")
            }
        }
    }

    /// `probe` is what the compose health checks run inside the image (which has no curl); when the URL
    /// does not answer 200 it says why, on one line.
    @Test func probeExitsZeroOnlyWhenTheURLAnswers200AndSaysWhyOtherwise() async throws {
        try await withServices([.contacts]) { cluster in
            let environment = ProcessInfo.processInfo.environment
            let ready = try Self.runCLI(["probe", cluster.url(.contacts) + "/readyz"], environment)
            #expect(ready.status == 0)
            #expect(ready.stdout.isEmpty && ready.stderr.isEmpty)

            let closedURL = "http://127.0.0.1:\(freePort())/readyz"
            let cases: [(url: String, reason: String)] = [
                (cluster.url(.contacts) + "/v1/contacts", "HTTP 401 (bad token"),
                (cluster.url(.contacts) + "/nowhere", "HTTP 404"),
                (closedURL, "connection refused"),
            ]
            for (url, reason) in cases {
                let result = try Self.runCLI(["probe", url], environment)
                #expect(result.status == 1, "\(url)")
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(result.stderr)")
                #expect(lines.first?.hasPrefix("concierge probe: \(url): \(reason)") == true, "\(result.stderr)")
            }
        }
    }

    /// A server that takes the connection but never answers: the probe gives up after its 2 s.
    @Test func aProbeThatGetsNoAnswerSaysItTimedOut() throws {
        let port = freePort()
        let listener = try Self.listen(on: port)  // never accepts: the kernel completes the handshake
        defer { close(listener) }
        let result = try Self.runCLI(["probe", "http://127.0.0.1:\(port)/readyz"], Self.cleanEnvironment)
        #expect(result.status == 1)
        #expect(result.stderr == "concierge probe: http://127.0.0.1:\(port)/readyz: timed out after 2 s\n")
    }

    /// A URL without its scheme is a mistake to point out, never a service reported down.
    @Test func aURLWithoutASchemeIsABadURLNotADownService() throws {
        let probe = try Self.runCLI(["probe", "localhost:8081/readyz"], Self.cleanEnvironment)
        #expect(probe.status == 2)
        #expect(probe.stderr.hasPrefix("concierge: bad URL \"localhost:8081/readyz\""), "\(probe.stderr)")

        for command in [["status"], ["demo"], ["backup", "somewhere"]] {
            var environment = Self.cleanEnvironment
            environment["CONCIERGE_JWT_SECRET"] = Self.secret
            environment["ROUTING_URL"] = "localhost:8083"
            let result = try Self.runCLI(command, environment)
            #expect(result.status == 2, "\(command)")
            #expect(result.stdout.isEmpty, "no table of services: \(result.stdout)")
            #expect(
                result.stderr == "concierge: ROUTING_URL: bad URL \"localhost:8083\": write it as http://host:port, "
                    + "e.g. http://localhost:8083\n", "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("down"))
        }
    }

    /// `status` follows its table with one line per service that is not healthy and ready, saying why.
    @Test func statusSaysWhyEachServiceIsNotReadyOneLineEach() async throws {
        try await withServices([.contacts]) { cluster in
            var environment = Self.cleanEnvironment
            for kind in ServiceKind.allCases {
                environment[kind.urlVariable] =
                    kind == .contacts ? cluster.url(.contacts) : "http://127.0.0.1:\(freePort())"
            }
            let result = try Self.runCLI(["status"], environment)
            #expect(result.status == 1)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            for kind in [ServiceKind.conversations, .routing, .crmLookup] {
                let url = environment[kind.urlVariable] ?? ""
                #expect(
                    lines.filter { $0.hasPrefix("\(kind.rawValue) (") } == [
                        "\(kind.rawValue) (\(url)): down: connection refused (nothing listens there)"
                    ], "\(result.stdout)")
            }
            #expect(!lines.contains { $0.hasPrefix("contacts (") }, "contacts is ready: \(result.stdout)")
        }
    }

    /// `concierge demo` plays the scripted day of SPEC §8 / the workflow issue against a real suite.
    @Test func demoPlaysTheScriptedDayAndExplainsEachDecision() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            var environment = ProcessInfo.processInfo.environment
            environment["CONCIERGE_JWT_SECRET"] = cluster.secret
            for kind in ServiceKind.allCases { environment[kind.urlVariable] = cluster.url(kind) }
            let result = try Self.runCLI(["demo"], environment)
            #expect(result.status == 0, "\(result.stderr)")
            let out = result.stdout
            #expect(
                out.contains("1. A VIP writes an email\n   → assigned to Vera in VIP Team")
                    || out.contains("1. A VIP writes an email\n   → assigned to Victor in VIP Team"))
            #expect(out.contains("automatic reply: “What is your email address?”"))
            #expect(out.contains("automatic reply: “That does not look like an email address, please try again.”"))
            #expect(out.contains("automatic reply: “Thanks!”"))
            #expect(out.contains("3. A gold loyalty member calls\n   → waiting in the Priority queue"))
            #expect(out.contains("dedicatedHero: hero agent Hana is away; messaging goes to hero inbox Support"))
            #expect(out.contains("Hi Helga, we are connecting you with your dedicated agent."))
            // It ends with what the day told the outside: the events of its four conversations (of the
            // day only: the contact set up before it, Helga, is not among contacts' new ones).
            let summary = try #require(out.range(of: "What the day told the outside: "))
            let lines = out[summary.lowerBound...].split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("   conversations  conversation.created ×4, message.created ×") })
            #expect(lines.contains { $0.hasPrefix("   contacts ") && $0.contains("contact.created ×3") })
            #expect(
                lines.last == "   `concierge events` prints them as JSON lines; `--follow` streams them as they happen."
            )
            let count = try #require(lines.first.flatMap { Int($0.split(separator: " ")[6]) })
            let counted = lines.dropFirst().dropLast().flatMap { $0.split(separator: "×").dropFirst() }
                .compactMap { Int($0.prefix { $0.isNumber }) }
            #expect(counted.reduce(0, +) == count)
        }
    }

    /// A workflow the operator saved is not replaced by the demo unless `--force` says so: the demo
    /// stops before it creates anything. Its own workflow from an earlier run it replaces freely.
    @Test func demoRefusesToReplaceAnotherWorkflowWithoutForce() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            var environment = Self.cleanEnvironment
            environment["CONCIERGE_JWT_SECRET"] = cluster.secret
            for kind in ServiceKind.allCases { environment[kind.urlVariable] = cluster.url(kind) }
            let admin = cluster.raw(.routing, token: cluster.token(.administrator))
            let own = #"{"start": "toHero", "steps": [{"id": "toHero", "type": "assign", "to": "dedicatedHero"}]}"#
            #expect(try await admin.raw("PUT", "/v1/workflow", body: Array(own.utf8)).status == 200)
            #expect(try await cluster.routing().inboxes().items.isEmpty)

            let refused = try Self.runCLI(["demo"], environment)
            #expect(refused.status == 1)
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(refused.stderr)")
            #expect(lines.first?.contains("no demo saved (version 1)") == true, "\(refused.stderr)")
            #expect(lines.first?.contains("concierge demo --force") == true, "\(refused.stderr)")
            let active = try await admin.raw("GET", "/v1/workflow")
            #expect(String(decoding: active.body, as: UTF8.self).contains(#""version":1"#), "the workflow is kept")
            #expect(try await cluster.routing().inboxes().items.isEmpty, "nothing was set up")

            let forced = try Self.runCLI(["demo", "--force"], environment)
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(forced.stdout.contains("Workflow saved (version 2)"))
            // Its own workflow, saved by the run before, the demo replaces without asking.
            let again = try Self.runCLI(["demo"], environment)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("Workflow saved (version 3)"))
        }
    }

    /// The demo signs with a secret the suite does not know: it says the token was refused.
    @Test func demoWithAnotherSecretSaysTheTokenIsBad() async throws {
        try await withServices([.routing]) { cluster in
            var environment = Self.cleanEnvironment
            environment["CONCIERGE_JWT_SECRET"] = Self.secret
            for kind in ServiceKind.allCases { environment[kind.urlVariable] = cluster.url(kind) }
            let result = try Self.runCLI(["demo"], environment)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("concierge demo: HTTP 401 (bad token"), "\(result.stderr)")
        }
    }

    /// A port another process holds: `up` says so and starts nothing, rather than announcing that
    /// process's answers as its own services while its child fails to bind and restarts.
    @Test func upRefusesAPortAnotherProcessHoldsAndStartsNothing() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = Self.cleanEnvironment
        for kind in ServiceKind.allCases { environment[Self.portVariable(kind)] = String(freePort()) }
        let held = freePort()
        environment[Self.portVariable(.routing)] = String(held)
        let listener = try Self.listen(on: held)
        defer { close(listener) }
        let data = folder.appendingPathComponent("data").path
        let result = try Self.runCLI(["up", "--data", data], environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("port \(held) for routing is taken by another process"), "\(result.stderr)")
        #expect(!result.stdout.contains("ready"))
        #expect(!FileManager.default.fileExists(atPath: data + "/routing.sqlite"), "no service was started")
    }

    @Test(.timeLimit(.minutes(3)))
    func upRunsTheFourServicesRestartsOneThatDiesAndStopsThemOnSIGTERM() async throws {
        let folder = try Self.temporaryFolder()
        let data = folder.appendingPathComponent("data").path
        let logPath = folder.appendingPathComponent("up.log").path
        let ports = Dictionary(uniqueKeysWithValues: ServiceKind.allCases.map { ($0, freePort()) })
        var environment = Self.cleanEnvironment
        for (kind, port) in ports { environment[Self.portVariable(kind)] = String(port) }

        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let up = Process()
        up.executableURL = URL(fileURLWithPath: Binaries.path("concierge"))
        up.arguments = ["up", "--data", data]
        up.environment = environment
        up.standardOutput = log
        up.standardError = log
        try up.run()
        var seenChildren: Set<Int32> = []
        defer {
            // Whatever failed, leave no process behind.
            if up.isRunning {
                kill(up.processIdentifier, SIGKILL)
                up.waitUntilExit()
            }
            for pid in seenChildren { kill(pid, SIGKILL) }
            try? log.close()
            try? FileManager.default.removeItem(at: folder)
        }
        func logText() -> String {
            String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
        }
        func client(_ kind: ServiceKind) -> ServiceClient {
            ServiceClient(baseURL: "http://127.0.0.1:\(ports[kind] ?? 0)", tokens: nil, timeout: 1)
        }

        // All four become ready, and `up` says so, one line each.
        for kind in ServiceKind.allCases {
            let ready = await Self.poll(within: 60) { (try? await client(kind).ready()) != nil }
            try #require(ready, "\(kind.rawValue) never answered /readyz:\n\(logText().suffix(3000))")
        }
        let announced = await Self.poll(within: 10) {
            ServiceKind.allCases.allSatisfy {
                logText().contains("\($0.rawValue) ready at http://127.0.0.1:\(ports[$0] ?? 0)")
            }
        }
        #expect(announced, "missing status lines:\n\(logText().suffix(3000))")
        let children = Self.children(of: up.processIdentifier)
        seenChildren.formUnion(children.values)
        #expect(Set(children.keys) == Set(ServiceKind.allCases.map(\.executable)))
        // A local suite may call CRMs on this machine: `up` allows private targets for its children.
        for (name, pid) in children {
            let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            #expect(variables.contains("CONCIERGE_ALLOW_PRIVATE_TARGETS=true"), "\(name)")
        }

        // The secret was created once, private, and it is the one the services check tokens with.
        let secretPath = data + "/jwt-secret"
        let secret = try String(contentsOfFile: secretPath, encoding: .utf8)
        #expect(secret.count == 64 && secret.allSatisfy(\.isHexDigit))
        let mode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let token = try Self.runCLI(
            ["token", "--role", "administrator", "--secret-file", secretPath], Self.cleanEnvironment
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let administrator = ServiceClient(baseURL: "http://127.0.0.1:\(ports[.contacts] ?? 0)", tokens: .fixed(token))
        let listed = try await administrator.raw("GET", "/v1/contacts")
        #expect(listed.status == 200)

        // A child killed outright comes back on its own.
        let routingExecutable = ServiceKind.routing.executable
        let killed = try #require(children[routingExecutable])
        kill(killed, SIGKILL)
        let restarted = await Self.poll(within: 30) {
            guard let pid = Self.children(of: up.processIdentifier)[routingExecutable], pid != killed else {
                return false
            }
            seenChildren.insert(pid)
            return (try? await client(.routing).health()) != nil
        }
        #expect(restarted, "routing was not restarted:\n\(logText().suffix(3000))")
        seenChildren.formUnion(Self.children(of: up.processIdentifier).values)

        // SIGTERM stops every child, then `up` itself, with status 0.
        kill(up.processIdentifier, SIGTERM)
        let exited = await Self.poll(within: 30) { !up.isRunning }
        try #require(exited, "concierge up did not exit:\n\(logText().suffix(3000))")
        #expect(up.terminationReason == .exit)
        #expect(up.terminationStatus == 0)
        for kind in ServiceKind.allCases {
            let closed = await Self.poll(within: 5) { (try? await client(kind).health()) == nil }
            #expect(closed, "\(kind.rawValue) still answers")
        }
        for pid in seenChildren { #expect(kill(pid, 0) == -1, "child \(pid) outlived concierge up") }
    }

    // MARK: - Helpers

    /// The test's environment without anything that would steer the CLI (secret, ports).
    private static var cleanEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CONCIERGE_JWT_SECRET"] = nil
        environment["CONCIERGE_ALLOW_PRIVATE_TARGETS"] = nil
        for kind in ServiceKind.allCases { environment[portVariable(kind)] = nil }
        return environment
    }

    private static func portVariable(_ kind: ServiceKind) -> String {
        kind.urlVariable.replacingOccurrences(of: "_URL", with: "_PORT")
    }

    private static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A socket listening on 127.0.0.1:`port` that never accepts.
    private static func listen(on port: Int) throws -> Int32 {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(listener, 8) == 0 else {
            close(listener)
            throw HarnessError.notReady("a listener on port \(port)", log: String(cString: strerror(errno)))
        }
        return listener
    }

    /// Runs `concierge` to completion (it prints little, so the pipes cannot fill up).
    private static func runCLI(
        _ arguments: [String], _ environment: [String: String], binary: String = "concierge"
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.path(binary))
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// Live child processes of `parent`, by executable name (from /proc).
    private static func children(of parent: Int32) -> [String: Int32] {
        var found: [String: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "pid (comm) ": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", Int32(fields[1]) == parent,
                let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let program = cmdline.split(separator: 0).first
            else { continue }
            found[URL(fileURLWithPath: String(decoding: program, as: UTF8.self)).lastPathComponent] = pid
        }
        return found
    }

    /// Checks `condition` every 50 ms until it holds or `seconds` pass.
    private static func poll(within seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return await condition()
    }
}
