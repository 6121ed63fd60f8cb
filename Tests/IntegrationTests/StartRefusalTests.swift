import Foundation
import TestSupport
import Testing

/// Settings a service can only find bad once it uses them — a database file it cannot write — stop it
/// at start with one line naming the variable and exit code 2, like any other bad setting.
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
            var environment = ProcessInfo.processInfo.environment
            environment["CONCIERGE_JWT_SECRET"] = Self.secret
            environment["DATABASE_PATH"] = database
            environment["HOST"] = "127.0.0.1"
            environment["PORT"] = String(freePort())
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
}
