import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Storage

/// `concierge backup DIR`: a consistent online copy of each service's database, taken by the service
/// itself with SQLite's backup API (`GET /v1/admin/backup`) while it keeps serving, streamed into
/// `DIR/<service>.sqlite`, checked with `PRAGMA integrity_check`, and listed in `DIR/backup.json`.
struct BackupCommand: Equatable {
    var folder: String

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        guard words.count == 1, let folder = words.first, !folder.hasPrefix("--"), !folder.isEmpty else {
            throw .usage("backup takes one folder")
        }
        self.folder = folder
    }

    /// One service's copy, as `backup.json` lists it.
    struct Entry: Codable, Equatable {
        let service: String
        let file: String
        let bytes: Int
        let schemaVersion: Int?
    }

    struct Manifest: Codable, Equatable {
        let takenAt: String
        let services: [Entry]
    }

    /// - Returns: 0 when every service's copy was taken and checked, else 1 (the good copies stay).
    func run(environment: [String: String]) async throws(CLIError) -> Int32 {
        let suite = try Suite.from(environment: environment)
        let folder = URL(fileURLWithPath: folder).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .failure("cannot create \(folder): \(error.localizedDescription)")
        }
        for member in suite.members where FileManager.default.fileExists(atPath: Self.path(of: member.name, in: folder))
        {
            throw .failure("\(Self.path(of: member.name, in: folder)) exists; back up into a new folder")
        }
        let takenAt = Date()
        var entries: [Entry] = []
        for member in suite.members {
            let started = ContinuousClock.now
            do {
                let entry = try await copy(member, into: folder, token: suite.token(.administrator, subject: "backup"))
                entries.append(entry)
                let elapsed = ContinuousClock.now - started
                Console.out(
                    Console.styled("✓", .green)
                        + " \(member.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(Self.size(entry.bytes)), schema \(entry.schemaVersion.map(String.init) ?? "?"), integrity ok, \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))"
                )
            } catch {
                Console.err(Console.styled("✗", .red) + " \(member.name): \(error.message)")
            }
        }
        guard entries.count == suite.members.count else {
            Console.err("concierge: the backup in \(folder) is incomplete")
            return 1
        }
        let manifest = Manifest(takenAt: Self.timestamp(takenAt), services: entries)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: folder + "/backup.json"), options: .atomic)
        } catch {
            throw .failure("cannot write \(folder)/backup.json: \(error.localizedDescription)")
        }
        Console.out("backup of 4 services in \(folder)")
        return 0
    }

    /// Streams one service's snapshot to `<name>.sqlite.part`, checks it, then gives it its name.
    private func copy(_ member: Suite.Member, into folder: String, token: String) async throws(CLIError) -> Entry {
        let final = Self.path(of: member.name, in: folder)
        let partial = final + ".part"
        unlink(partial)
        let request = ClientRequest(
            method: "GET", url: member.url + "/v1/admin/backup", headers: [("Authorization", "Bearer \(token)")])
        let response: ClientResponse
        do {
            response = try await HTTPClient.shared.download(request, to: partial, idleTimeout: 60)
        } catch {
            throw .failure("\(member.url): \(FailureReason.of(error))")
        }
        guard response.status == 200 else {
            throw .failure("\(member.url): \(FailureReason.of(status: response.status, body: response.body))")
        }
        let check: DatabaseFile.Check
        do {
            check = try DatabaseFile.check(partial)
        } catch {
            unlink(partial)
            throw .failure("the copy is not a readable SQLite database: \(error)")
        }
        guard check.isSound else {
            unlink(partial)
            throw .failure("the copy failed its integrity check: \(check.problems.prefix(3).joined(separator: "; "))")
        }
        guard rename(partial, final) == 0 else {
            throw .failure("cannot rename \(partial): \(String(cString: strerror(errno)))")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: final)[.size] as? Int) ?? 0
        return Entry(
            service: member.name, file: "\(member.name).sqlite", bytes: bytes, schemaVersion: check.schemaVersion)
    }

    static func path(of service: String, in folder: String) -> String { "\(folder)/\(service).sqlite" }

    static func size(_ bytes: Int) -> String {
        bytes < 1 << 20
            ? String(format: "%.1f KiB", Double(bytes) / 1024) : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
