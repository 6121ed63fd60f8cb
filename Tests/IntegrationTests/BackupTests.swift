import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

/// `concierge backup` and `concierge restore` against the four real services.
@Suite struct BackupTests {
    @Test func backupUnderWriteLoadRestoresEveryRowCommittedBeforeIt() async throws {
        try await withServices([.contacts, .conversations, .routing, .crmLookup]) { cluster in
            let contacts = cluster.contacts()
            let folder = cluster.directory.appendingPathComponent("backup").path
            let load = WriteLoad()
            // Four writers keep creating contacts for the whole backup.
            let writers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            var n = 0
                            while !load.stop.load(ordering: .relaxed) {
                                n += 1
                                if let created = try? await contacts.create(
                                    NewContact(name: "W\(writer)-\(n)", emails: ["w\(writer)-\(n)@load.example"]))
                                {
                                    load.committed.withLock { $0.append(created.id) }
                                }
                            }
                        }
                    }
                }
            }
            #expect(
                await eventually(within: 20) { load.committed.withLock { $0.count } >= 200 },
                "writers committed 200 contacts")
            let before = Set(load.committed.withLock { $0 })
            let backup = try await CLIProcess.run(["backup", folder], environment: Self.environment(cluster))
            let during = load.committed.withLock { $0.count }
            load.stop.store(true, ordering: .relaxed)
            await writers.value
            #expect(backup.status == 0, "stdout: \(backup.stdout)\nstderr: \(backup.stderr)")
            #expect(during > before.count, "the writers kept committing while the backup ran")

            // Every copy is a sound SQLite file; the manifest lists all four.
            for kind in ServiceKind.allCases {
                let check = try DatabaseFile.check("\(folder)/\(kind.rawValue).sqlite")
                #expect(check.isSound, "\(kind.rawValue): \(check.problems)")
                #expect(check.schemaVersion != nil)
            }
            let manifest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/backup.json")))
            let listed = ((manifest as? [String: Any])?["services"] as? [[String: Any]])?.compactMap {
                $0["service"] as? String
            }
            #expect(Set(listed ?? []) == Set(ServiceKind.allCases.map(\.rawValue)))

            // A running service's file is never replaced.
            let refused = try await CLIProcess.run(
                ["restore", folder, "--data", cluster.directory.path, "--only", "contacts"],
                environment: Self.environment(cluster))
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("in use"))
            let afterLoad = try await contacts.search(.init(q: "", limit: 1))
            #expect(afterLoad.items.isEmpty == false)

            // Stop contacts, restore its copy, start it again: every row committed before the backup is there,
            // and rows written only after the backup are not (it really is the copy).
            let service = try cluster.service(.contacts)
            await service.stop()
            let restored = try await CLIProcess.run(
                ["restore", folder, "--data", cluster.directory.path, "--only", "contacts"],
                environment: Self.environment(cluster))
            #expect(restored.status == 0, "stderr: \(restored.stderr)")
            #expect(try DatabaseFile.check(service.databasePath).isSound)
            try await service.start()
            for id in before {
                let contact = try await contacts.get(id)
                #expect(contact.id == id)
            }
            let all = load.committed.withLock { $0 }
            var missing = 0
            for id in all.suffix(20) where !before.contains(id) {
                if (try? await contacts.get(id)) == nil { missing += 1 }
            }
            #expect(missing > 0, "the last contacts, created after the backup, are not in it")
            let replaced = try FileManager.default.contentsOfDirectory(atPath: cluster.directory.path)
                .filter { $0.hasPrefix("contacts.sqlite.replaced-") }
            #expect(replaced.count == 1, "the replaced file is kept")
        }
    }

    @Test func backupRefusesAFolderThatHoldsABackupAndNeedsAnAdministrator() async throws {
        try await withServices([.contacts]) { cluster in
            let folder = cluster.directory.appendingPathComponent("old").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/contacts.sqlite"))
            let result = try await CLIProcess.run(["backup", folder], environment: Self.environment(cluster))
            #expect(result.status == 1)
            #expect(result.stderr.contains("exists"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/contacts.sqlite")) == Data("x".utf8))

            let agent = try await cluster.raw(.contacts, token: cluster.token(.teamManager)).raw(
                "GET", "/v1/admin/backup")
            #expect(agent.status == 403)
            let anonymous = try await cluster.raw(.contacts).raw("GET", "/v1/admin/backup")
            #expect(anonymous.status == 401)
            let admin = try await cluster.raw(.contacts, token: cluster.token(.administrator)).raw(
                "GET", "/v1/admin/backup")
            #expect(admin.status == 200)
            #expect(admin.header("content-type") == "application/vnd.sqlite3")
            #expect(admin.body.starts(with: Array("SQLite format 3\0".utf8)))
            // The snapshot is gone from the service's folder once sent.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster.directory.path).filter {
                $0.contains("-backup-")
            }
            #expect(leftovers.isEmpty)
        }
    }

    /// One line per service that could not be copied, saying why: here a token the suite refuses
    /// (signed with another secret) and three services nobody runs.
    @Test func backupSaysWhyEachServiceFailed() async throws {
        try await withServices([.contacts]) { cluster in
            var environment = Self.environment(cluster)
            environment["CONCIERGE_JWT_SECRET"] = String(repeating: "another secret ", count: 3)
            for kind in ServiceKind.allCases where kind != .contacts {
                environment[kind.urlVariable] = "http://127.0.0.1:\(freePort())"
            }
            let folder = cluster.directory.appendingPathComponent("failed").path
            let result = try await CLIProcess.run(["backup", folder], environment: environment)
            #expect(result.status == 1)
            let lines = result.stderr.split(separator: "\n").map(String.init)
            #expect(
                lines.contains {
                    $0.hasSuffix(
                        "contacts: \(cluster.url(.contacts)): HTTP 401 (bad token: missing, expired, or signed with another secret than the suite's)"
                    )
                }, "\(result.stderr)")
            for kind in ServiceKind.allCases where kind != .contacts {
                let url = environment[kind.urlVariable] ?? ""
                #expect(
                    lines.contains {
                        $0.hasSuffix("\(kind.rawValue): \(url): connection refused (nothing listens there)")
                    },
                    "\(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder + "/backup.json"))
        }
    }

    /// The compose restore: the backup's files are root's and 0600 (written by `concierge backup` run
    /// as root on the host), so the restore runs as root; the service runs as the volume's owner
    /// (uid 10001 in the image; here `nobody`) and must be able to open and write what was restored.
    @Test(
        .enabled(
            if: getuid() == 0 && Unprivileged.isAvailable, "needs root and setpriv to restore as root for another user")
    )
    func aRestoreRunAsRootGivesTheFileToTheDataFoldersOwner() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let backup = cluster.directory.appendingPathComponent("backup").path
            let backedUp = try await CLIProcess.run(["backup", backup], environment: Self.environment(cluster))
            #expect(backedUp.status == 0, "\(backedUp.stderr)")
            let copy = try FileManager.default.attributesOfItem(atPath: backup + "/routing.sqlite")
            #expect(copy[.ownerAccountID] as? Int == 0 && copy[.posixPermissions] as? Int == 0o600)

            // The volume: owned by the service's user, private to it.
            let volume = cluster.directory.appendingPathComponent("volume").path
            try FileManager.default.createDirectory(
                atPath: volume, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            #expect(chown(volume, Unprivileged.uid, Unprivileged.gid) == 0)
            let restored = try await CLIProcess.run(
                ["restore", backup, "--data", volume, "--only", "routing"], environment: [:])
            #expect(restored.status == 0, "\(restored.stderr)")
            let file = try FileManager.default.attributesOfItem(atPath: volume + "/routing.sqlite")
            #expect(file[.ownerAccountID] as? Int == Int(Unprivileged.uid))
            #expect(file[.groupOwnerAccountID] as? Int == Int(Unprivileged.gid))
            #expect(file[.posixPermissions] as? Int == 0o600)

            var environment = ProcessInfo.processInfo.environment
            environment["CONCIERGE_JWT_SECRET"] = cluster.secret
            environment["DATABASE_PATH"] = volume + "/routing.sqlite"
            environment["HOST"] = "127.0.0.1"
            let port = freePort()
            environment["PORT"] = String(port)
            let service = RunningService(
                kind: .routing, port: port, databasePath: volume + "/routing.sqlite", environment: environment,
                logPath: cluster.directory.appendingPathComponent("restored-routing.log").path, unprivileged: true)
            try await service.start()
            do {
                let admin = ServiceClient(baseURL: service.baseURL, tokens: .fixed(cluster.token(.administrator)))
                let created = try await admin.raw(
                    "POST", "/v1/inboxes", body: Array(#"{"name": "After the restore"}"#.utf8))
                #expect(created.status == 201, "\(String(decoding: created.body, as: UTF8.self))")
            } catch {
                await service.stop()
                throw error
            }
            #expect(await service.stop() == 0)
        }
    }

    @Test func restoreChecksEveryCopyBeforeTouchingAnything() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "concierge-restore-\(UUID().uuidString)")
        let data = folder.appendingPathComponent("data")
        let backup = folder.appendingPathComponent("backup")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: backup, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("current".utf8).write(to: data.appendingPathComponent("routing.sqlite"))
        try Data("not a database".utf8).write(to: backup.appendingPathComponent("routing.sqlite"))
        let result = try await CLIProcess.run(
            ["restore", backup.path, "--data", data.path, "--only", "routing"], environment: [:])
        #expect(result.status == 1)
        #expect(result.stderr.contains("routing.sqlite"))
        #expect(try Data(contentsOf: data.appendingPathComponent("routing.sqlite")) == Data("current".utf8))
        let missing = try await CLIProcess.run(["restore", backup.path, "--data", data.path], environment: [:])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing"))
    }

    /// What `concierge` needs to reach this cluster: its URLs and secret, nothing inherited.
    private static func environment(_ cluster: TestCluster) -> [String: String] {
        var environment = ["CONCIERGE_JWT_SECRET": cluster.secret, "PATH": "/usr/bin:/bin"]
        for kind in ServiceKind.allCases { environment[kind.urlVariable] = cluster.url(kind) }
        return environment
    }
}

/// What the writers share: the ids they got answers for, and the signal to stop.
private final class WriteLoad: Sendable {
    let committed = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
}
