import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Settings a service can only find bad once it uses them — a database file it cannot write, a secret
/// file it cannot read — stop it at start with one line naming the variable and exit code 2, like any
/// other bad setting.
@Suite struct StartRefusalTests {
    private static let secret = "0123456789abcdef0123456789abcdef-start-test"

    /// A database file the service's user cannot write opened read-only without a word: the service
    /// reported ready and failed every write. Run unprivileged, as root writes any file.
    @Test(.enabled(if: Unprivileged.isAvailable, "setpriv is missing: cannot run a service as another user than root"))
    func aDatabaseFileTheServiceCannotWriteIsRefusedAtStart() async throws {
        try await withTemporaryFolderAsync { folder in
            // Like /tmp: the service's user may create files here (SQLite's -wal and -shm), but may not
            // delete or replace the database file, which it cannot write either.
            try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: folder)
            let database = folder + "/routing.sqlite"
            let environment = Self.environment(folder, service: "routing")
            // A migrated database, as a service leaves it: only a write would fail, not the start.
            let first = RunningService(
                kind: .routing, port: Int(environment["PORT"] ?? "") ?? 0, databasePath: database,
                environment: environment, logPath: folder + "/first.log")
            try await first.start()
            #expect(await first.stop() == 0)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: database)
            let before = try Data(contentsOf: URL(fileURLWithPath: database))

            let result = try await Unprivileged.run("concierge-routing", environment: environment)

            #expect(result.status == 2, "stdout: \(result.stdout.suffix(2000)) stderr: \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(
                lines.first?.hasPrefix("concierge-routing: invalid configuration: DATABASE_PATH: \(database)") == true,
                "\(result.stderr)")
            #expect(result.stderr.contains("read-only"), "\(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: database)) == before, "nothing changed")
        }
    }

    // MARK: - The token secret from a file

    /// `CONCIERGE_JWT_SECRET_FILE` alone: the service takes the file's secret (without its newline)
    /// and checks tokens with it.
    @Test func theSecretFromAFileIsTheOneTokensAreCheckedWith() async throws {
        try await withTemporaryFolderAsync { folder in
            let secret = "a-secret-in-a-file-0123456789abcdef"
            let file = folder + "/jwt-secret"
            try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
            var environment = Self.environment(folder)
            environment["CONCIERGE_JWT_SECRET"] = nil
            environment["CONCIERGE_JWT_SECRET_FILE"] = file
            let service = RunningService(
                kind: .contacts, port: Int(environment["PORT"] ?? "") ?? 0, databasePath: folder + "/contacts.sqlite",
                environment: environment, logPath: folder + "/contacts.log")
            try await service.start()
            do {
                let signed = JWTSigner(secret: secret).mint(sub: "admin", role: .administrator, ttl: 60)
                let other = JWTSigner(secret: Self.secret).mint(sub: "admin", role: .administrator, ttl: 60)
                let client = ServiceClient(baseURL: service.baseURL, tokens: .fixed(signed))
                #expect(try await client.raw("GET", "/v1/contacts").status == 200)
                let refused = ServiceClient(baseURL: service.baseURL, tokens: .fixed(other))
                #expect(try await refused.raw("GET", "/v1/contacts").status == 401)
            } catch {
                await service.stop()
                throw error
            }
            #expect(await service.stop() == 0)
        }
    }

    enum SecretFileCase: String, CaseIterable, Sendable {
        /// The variable and the file both set: which one counts would be a guess.
        case bothSet
        case missing
        /// A secret file only root may read (a compose secret whose host file is 0600 root's), read by
        /// a service running as another user.
        case unreadableToTheService
    }

    @Test(arguments: SecretFileCase.allCases)
    func aSecretFileThatCannotServeStopsTheServiceWithExitTwo(_ failure: SecretFileCase) async throws {
        if failure == .unreadableToTheService {
            try #require(Unprivileged.isAvailable, "setpriv is missing: cannot run a service as another user than root")
        }
        try await withTemporaryFolderAsync { folder in
            try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: folder)
            let file = folder + "/jwt-secret"
            try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            var environment = Self.environment(folder)
            environment["CONCIERGE_JWT_SECRET_FILE"] = file
            let result: CLIProcess.Result
            switch failure {
            case .bothSet:
                result = try await CLIProcess.run(Binaries.path("concierge-contacts"), [], environment: environment)
            case .missing:
                environment["CONCIERGE_JWT_SECRET"] = nil
                environment["CONCIERGE_JWT_SECRET_FILE"] = folder + "/no-such-secret"
                result = try await CLIProcess.run(Binaries.path("concierge-contacts"), [], environment: environment)
            case .unreadableToTheService:
                environment["CONCIERGE_JWT_SECRET"] = nil
                result = try await Unprivileged.run("concierge-contacts", environment: environment)
            }
            #expect(result.status == 2, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(
                lines.first?.hasPrefix("concierge-contacts: invalid configuration: CONCIERGE_JWT_SECRET_FILE: ")
                    == true,
                "\(result.stderr)")
            let expected: String =
                switch failure {
                case .bothSet: "not both"
                case .missing: "No such file or directory"
                case .unreadableToTheService: "Permission denied"
                }
            #expect(result.stderr.contains(expected), "\(result.stderr)")
            #expect(!result.stderr.contains(Self.secret), "the secret is never printed")
        }
    }

    /// A service's environment with its database in `folder` and a free port.
    private static func environment(_ folder: String, service: String = "contacts") -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CONCIERGE_JWT_SECRET"] = secret
        environment["DATABASE_PATH"] = folder + "/\(service).sqlite"
        environment["HOST"] = "127.0.0.1"
        environment["PORT"] = String(freePort())
        return environment
    }
}
