import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Storage

/// A running service keeps SQLite's lock on its database file through WAL rewinds,
/// so what operators open beside it — a `sqlite3` shell, `concierge backup`, `concierge restore` — can
/// never mistake itself for the last user and delete the live write-ahead log.
@Suite struct DatabaseLockTests {
    @Test func outsideReadersBackupAndRestoreDuringLoadLoseNoAcknowledgedWrite() async throws {
        // A short rewind threshold, so that rewinds come every background pass under load.
        try await withServices([.contacts], environment: ["CONCIERGE_WAL_REWIND_FRAMES": "64"]) { cluster in
            let service = try cluster.service(.contacts)
            let contacts = cluster.contacts()
            let load = AcknowledgedWrites()
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            var n = 0
                            while !load.stop.load(ordering: .relaxed) {
                                n += 1
                                let contact = NewContact(
                                    name: "Lock \(writer)-\(n)", emails: ["lock\(writer)-\(n)@load.example"],
                                    attributes: ["note": String(repeating: "x", count: 2000)])
                                if let created = try? await contacts.create(contact) {
                                    load.ids.withLock { $0.append(created.id) }
                                }
                            }
                        }
                    }
                }
            }
            defer { load.stop.store(true, ordering: .relaxed) }

            try #require(
                await eventually(within: 30) { try await rewinds(cluster) >= 3 }, "three WAL rewinds under load")
            #expect(heldLocks(pid: service.pid, path: service.databasePath) > 0, "the service holds its database lock")

            // What an operator's `sqlite3` shell does: open read-write, read, close — after each of
            // several more rewinds. A service that had lost its lock would have its WAL deleted here.
            for round in 1...4 {
                let mark = try await rewinds(cluster)
                try #require(
                    await eventually(within: 30) { try await rewinds(cluster) > mark }, "a rewind after \(mark)")
                let outside = try Connection(path: service.databasePath, readOnly: false, busyTimeoutMilliseconds: 2000)
                let count = try outside.scalarInt("SELECT count(*) FROM contacts") ?? 0
                #expect(count > 0)
                withExtendedLifetime(outside) {}
                #expect(
                    heldLocks(pid: service.pid, path: service.databasePath) > 0,
                    "after outside reader \(round), the service still holds its lock")
            }

            // `concierge backup` during load, then `concierge restore`, which must refuse while the
            // service runs however long its WAL is.
            let folder = cluster.directory.appendingPathComponent("backup").path
            // Only contacts runs here: the backup of the other three fails, contacts' copy must be sound.
            let backup = try await CLIProcess.run(["backup", folder], environment: Self.cliEnvironment(cluster))
            #expect(backup.stdout.contains("contacts"), "stdout: \(backup.stdout)\nstderr: \(backup.stderr)")
            #expect(try DatabaseFile.check(folder + "/contacts.sqlite").isSound)
            let restore = try await CLIProcess.run(
                ["restore", folder, "--data", cluster.directory.path, "--only", "contacts"],
                environment: Self.cliEnvironment(cluster))
            #expect(restore.status == 1, "restore replaced the file of a running service: \(restore.stdout)")
            #expect(restore.stderr.contains("in use"))

            let before = try await rewinds(cluster)
            try #require(
                await eventually(within: 30) { try await rewinds(cluster) > before }, "a rewind after the backup")
            load.stop.store(true, ordering: .relaxed)
            await writers.value
            let acknowledged = load.ids.withLock { $0 }
            #expect(acknowledged.count > 100, "the writers were acknowledged \(acknowledged.count) times")

            // SIGKILL: nothing is checkpointed on the way out. Every acknowledged contact is in the file.
            await service.stop(signal: SIGKILL)
            do {
                let file = try Connection(path: service.databasePath, readOnly: true, busyTimeoutMilliseconds: 2000)
                #expect(try file.first("PRAGMA integrity_check") { $0.string(0) } == "ok")
                let stored = Set(try file.query("SELECT id FROM contacts") { $0.string(0) })
                let lost = acknowledged.filter { !stored.contains($0) }.count
                #expect(lost == 0, "\(lost) of \(acknowledged.count) acknowledged contacts lost")
            }
            try await service.start()
            for id in acknowledged.suffix(20) {
                #expect(try await contacts.get(id).id == id)
            }
        }
    }

    /// A database file deleted under a running service: writes would go on into a file no restart
    /// finds, so the service stops being ready and says why in its log, within seconds.
    @Test func aDatabaseFileDeletedWhileRunningMakesTheServiceNotReadyAndLoud() async throws {
        try await withServices([.contacts]) { cluster in
            let service = try cluster.service(.contacts)
            _ = try await cluster.contacts().create(NewContact(name: "Before"))
            #expect(try await cluster.raw(.contacts).raw("GET", "/readyz").status == 200)
            try FileManager.default.removeItem(atPath: service.databasePath)
            let notReady = await eventually(within: 10) {
                (try? await cluster.raw(.contacts).raw("GET", "/readyz"))?.status == 503
            }
            #expect(notReady, "/readyz still answers 200 with the database file gone")
            let logged = await eventually(within: 10) {
                service.logRecords.contains {
                    $0["level"] == "error" && ($0["msg"] ?? "").contains("database file was deleted")
                }
            }
            #expect(logged, "no error line in the log")
        }
    }

    /// The service's `concierge_sqlite_wal_rewinds_total`.
    private func rewinds(_ cluster: TestCluster) async throws -> Int {
        let response = try await cluster.raw(.contacts).raw("GET", "/metrics")
        let text = String(decoding: response.body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("concierge_sqlite_wal_rewinds_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// What `concierge` needs to reach this cluster: its URLs and secret, nothing inherited.
    private static func cliEnvironment(_ cluster: TestCluster) -> [String: String] {
        var environment = ["CONCIERGE_JWT_SECRET": cluster.secret, "PATH": "/usr/bin:/bin"]
        for kind in ServiceKind.allCases { environment[kind.urlVariable] = cluster.url(kind) }
        return environment
    }
}

/// The ids the writers got answers for, and the signal to stop.
private final class AcknowledgedWrites: Sendable {
    let ids = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
}

/// How many POSIX locks `/proc/locks` lists for process `pid` on the file at `path` (by inode).
private func heldLocks(pid: Int32, path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else {
        return 0
    }
    // "1: POSIX  ADVISORY  READ 4242 fd:01:1234567 1073741826 1073742335"
    return table.split(separator: "\n").filter { line in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count >= 6 && fields[1] == "POSIX" && fields[4] == "\(pid)"
            && fields[5].hasSuffix(":\(info.st_ino)")
    }.count
}
