import CSQLite

/// Checks and preparations on a database file that no `Database` of this process has open: what an
/// operator's backup and restore need.
public enum DatabaseFile {
    /// What `PRAGMA integrity_check` finds in the file at `path`, and the last migration applied.
    public struct Check: Sendable, Equatable {
        /// `["ok"]` for a sound file, else SQLite's list of problems.
        public let problems: [String]
        /// The highest version in `schema_migrations`, or `nil` when the file has no such table.
        public let schemaVersion: Int?

        public var isSound: Bool { problems == ["ok"] }
    }

    /// Opens the file read-only and runs SQLite's full integrity check.
    public static func check(_ path: String) throws -> Check {
        let connection = try Connection(path: path, readOnly: true, busyTimeoutMilliseconds: 2000)
        let problems = try connection.query("PRAGMA integrity_check") { $0.string(0) }
        let hasMigrations =
            try connection.scalarInt(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") == 1
        let version = hasMigrations ? try connection.scalarInt("SELECT max(version) FROM schema_migrations") : nil
        return Check(problems: problems, schemaVersion: version)
    }

    /// Folds the write-ahead log into the main file and leaves it in rollback-journal mode, so the
    /// file alone holds every committed row and can be moved. SQLite only allows the switch when no
    /// other connection — in any process — has the database open: a running service makes this
    /// throw an error whose `isBusy` is true.
    public static func detach(_ path: String) throws {
        let connection = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: 500)
        let mode = try connection.first("PRAGMA journal_mode=DELETE") { $0.string(0) }
        guard mode == "delete" else {
            throw SQLiteError(
                code: SQLITE_BUSY, message: "the database is in use (journal mode stayed \(mode ?? "unknown"))")
        }
    }
}
