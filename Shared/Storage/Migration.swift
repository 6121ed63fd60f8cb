/// One numbered, forward-only schema step. A shipped step is never edited: append a new one.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (Connection) throws -> Void

    public init(_ version: Int, _ name: String, _ apply: @escaping @Sendable (Connection) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

/// Applies pending migrations, each with its `schema_migrations` row in one transaction.
enum Migrator {
    struct TooNew: Error, CustomStringConvertible {
        let database: Int
        let code: Int
        var description: String {
            "database schema version \(database) is newer than this build knows (\(code)); refusing to start"
        }
    }

    static func migrate(_ connection: Connection, _ migrations: [Migration]) throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
            """)
        let current = try connection.scalarInt("SELECT max(version) FROM schema_migrations") ?? 0
        let latest = migrations.map(\.version).max() ?? 0
        guard current <= latest else { throw TooNew(database: current, code: latest) }
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try migration.apply(connection)
                try connection.run(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                    migration.version, migration.name)
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }
}
