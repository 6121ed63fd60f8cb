import Foundation
import Storage

/// `concierge restore DIR [--data DIR] [--only NAMES]`: puts a backup's databases back in place of
/// the services' files while the services are stopped. Every copy is checked first, every current
/// file is confirmed unused (SQLite refuses to leave WAL mode while any process has it open), and
/// only then are files swapped; each replaced file is kept beside it as `<name>.sqlite.replaced-<time>`.
/// A restored file belongs to the data folder's owner (mode 0600), whoever runs the restore.
struct RestoreCommand: Equatable {
    var backupFolder: String
    var dataFolder = UpCommand.defaultDataFolder
    /// The services to restore; default all four.
    var services = ChildService.all.map(\.name)

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        guard let folder = words.first, !folder.hasPrefix("--"), !folder.isEmpty else {
            throw .usage("restore takes the backup folder first")
        }
        backupFolder = folder
        var reader = OptionReader(words.dropFirst())
        while let option = try reader.next() {
            switch option.name {
            case "--data":
                guard !option.value.isEmpty else { throw .usage("--data must not be empty") }
                dataFolder = option.value
            case "--only":
                let names = option.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let known = ChildService.all.map(\.name)
                guard !names.isEmpty else { throw .usage("--only needs service names") }
                if let unknown = names.first(where: { !known.contains($0) }) {
                    throw .usage("unknown service \"\(unknown)\": use \(known.joined(separator: ", "))")
                }
                services = known.filter { names.contains($0) }
            default:
                throw .usage("restore has no option \(option.name)")
            }
        }
    }

    func run() throws(CLIError) -> Int32 {
        let backup = URL(fileURLWithPath: backupFolder).standardizedFileURL.path
        let data = URL(fileURLWithPath: dataFolder).standardizedFileURL.path
        // 1. Every copy must be there and sound before anything is touched.
        for name in services {
            let source = BackupCommand.path(of: name, in: backup)
            guard FileManager.default.fileExists(atPath: source) else {
                throw .failure("\(source) is missing (restore part of a backup with --only)")
            }
            let check: DatabaseFile.Check
            do {
                check = try DatabaseFile.check(source)
            } catch {
                throw .failure("\(source) is not a readable SQLite database: \(error)")
            }
            guard check.isSound, check.schemaVersion != nil else {
                throw .failure(
                    "\(source) failed its integrity check: \(check.problems.prefix(3).joined(separator: "; "))")
            }
        }
        // 2. No service may have its current file open.
        for name in services {
            let target = BackupCommand.path(of: name, in: data)
            guard FileManager.default.fileExists(atPath: target) else { continue }
            do {
                try DatabaseFile.detach(target)
            } catch let error as SQLiteError where error.isBusy {
                throw .failure("\(target) is in use: stop concierge-\(name) (or the whole suite) first")
            } catch {
                throw .failure("cannot open \(target): \(error)")
            }
        }
        // 3. Swap the files in.
        do {
            try FileManager.default.createDirectory(
                atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .failure("cannot create \(data): \(error.localizedDescription)")
        }
        let stamp = BackupCommand.timestamp(Date()).replacingOccurrences(of: ":", with: "")
        for name in services {
            let source = BackupCommand.path(of: name, in: backup)
            let target = BackupCommand.path(of: name, in: data)
            let staging = target + ".restoring"
            do {
                try? FileManager.default.removeItem(atPath: staging)
                try FileManager.default.copyItem(atPath: source, toPath: staging)
                try Self.adopt(staging, ownerOf: data)
                if FileManager.default.fileExists(atPath: target) {
                    try FileManager.default.moveItem(atPath: target, toPath: "\(target).replaced-\(stamp)")
                }
                for suffix in ["-wal", "-shm", "-journal"] {
                    try? FileManager.default.removeItem(atPath: target + suffix)
                }
                guard rename(staging, target) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            } catch {
                throw .failure("cannot put \(source) in place of \(target): \(error.localizedDescription)")
            }
            Console.out(Console.styled("✓", .green) + " \(name) restored to \(target)")
        }
        Console.out(
            "restored \(services.count) service\(services.count == 1 ? "" : "s"); start them again (concierge up, or docker compose start)"
        )
        return 0
    }

    /// Gives a restored file the data folder's owner and group, mode 0600. Run as root — `sudo`, or
    /// a container's restore run as root because the backup's files are root's and 0600 — the copy
    /// would be root's, and the service, running as the folder's owner (uid 10001 in the image), could
    /// not open it. As anyone else the copy is the caller's already, and only its mode is set.
    private static func adopt(_ path: String, ownerOf folder: String) throws {
        var owner = stat()
        guard stat(folder, &owner) == 0, geteuid() != 0 || chown(path, owner.st_uid, owner.st_gid) == 0,
            chmod(path, 0o600) == 0
        else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}
