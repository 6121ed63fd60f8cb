import ConciergeAuth
import Foundation

/// The HMAC secret that signs and checks tokens (SPEC §1): `CONCIERGE_JWT_SECRET` or the file
/// `CONCIERGE_JWT_SECRET_FILE` names when one is set (as the services read it), else the file
/// `concierge up` creates on its first run.
struct Secret {
    static let variable = "CONCIERGE_JWT_SECRET"
    static let fileVariable = "CONCIERGE_JWT_SECRET_FILE"
    static let fileName = "jwt-secret"
    /// The services refuse a shorter secret, so the CLI does too; in bytes.
    static let minimumBytes = 32

    let value: String

    /// Checks `value`, read from `source` (a variable or a path), is long enough.
    init(_ value: String, from source: String) throws(CLIError) {
        guard value.utf8.count >= Self.minimumBytes else {
            throw .configuration("the secret in \(source) must be at least \(Self.minimumBytes) bytes")
        }
        self.value = value
    }

    /// The secret from `CONCIERGE_JWT_SECRET` or the file `CONCIERGE_JWT_SECRET_FILE` names, or `nil`
    /// when both are unset or empty.
    /// - Throws: `CLIError.configuration` when both are set, or the file cannot be read.
    static func fromEnvironment(_ environment: [String: String]) throws(CLIError) -> Secret? {
        let value = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (value, file) {
        case (.some, .some): throw .configuration("set either \(variable) or \(fileVariable), not both")
        case (let value?, nil): return try Secret(value, from: variable)
        case (nil, let path?):
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .configuration("\(fileVariable): cannot read \(path)")
            }
            return try read(from: path)
        case (nil, nil): return nil
        }
    }

    /// Reads the secret file at `path`; surrounding whitespace (a trailing newline) is not part of it.
    static func read(from path: String) throws(CLIError) -> Secret {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .configuration(
                "no secret: set \(variable), or run `concierge up` once to create \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .configuration("cannot read the secret file \(path)")
        }
        return try Secret(
            String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), from: path)
    }

    /// Reads the secret file at `path`, first creating it (64 hex characters, mode 0600) if it is missing.
    /// - Returns: the secret, and whether this call created the file.
    static func readOrCreate(at path: String) throws(CLIError) -> (secret: Secret, created: Bool) {
        let value = hex(Crypto.randomBytes(32))
        // O_EXCL: if another `up` creates the file first, read theirs rather than overwrite it.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            guard errno == EEXIST else {
                throw .configuration("cannot create the secret file \(path): \(String(cString: strerror(errno)))")
            }
            return (try read(from: path), false)
        }
        defer { close(fd) }
        let written = value.utf8.withContiguousStorageIfAvailable { bytes in
            Glibc.write(fd, bytes.baseAddress, bytes.count)
        }
        guard written == value.utf8.count, fsync(fd) == 0 else {
            unlink(path)
            throw .configuration("cannot write the secret file \(path): \(String(cString: strerror(errno)))")
        }
        return (try Secret(value, from: path), true)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }
}
