import ConciergeModels
import Events
import Foundation
import Storage

/// External CRM sources and their lookup cache.
struct SourceStore: Sendable {
    let db: Database
    let events: EventLog

    struct Stored: Sendable {
        var name: String
        var urlTemplate: String
        var headers: [String: String]
        var timeoutMs: Int
        var cacheTtlSeconds: Int
        var updatedAt: String
    }

    struct Cached: Sendable {
        var found: Bool
        var data: [UInt8]?
        /// Milliseconds since 1970.
        var fetchedAt: Int64
    }

    /// Runs `body` in a write transaction of its own.
    func write<T>(_ body: (SourceTransaction) throws -> T) throws -> T {
        try db.write { try body(SourceTransaction(connection: $0, events: events)) }
    }

    func save(_ source: Stored) throws {
        try write { try $0.save(source) }
    }

    func all() throws -> [Stored] {
        try db.read { connection in
            try connection.query(
                "SELECT name, url_template, headers, timeout_ms, cache_ttl_seconds, updated_at FROM sources ORDER BY name",
                [], Self.decode)
        }
    }

    func get(_ name: String) throws -> Stored? {
        try db.read { connection in try Self.get(connection, name) }
    }

    static func get(_ connection: Connection, _ name: String) throws -> Stored? {
        try connection.first(
            "SELECT name, url_template, headers, timeout_ms, cache_ttl_seconds, updated_at FROM sources WHERE name = ?",
            [name],
            decode)
    }

    func cached(source: String, key: String) throws -> Cached? {
        try db.read { connection in
            try connection.first(
                "SELECT found, data, fetched_at FROM lookup_cache WHERE source = ? AND key = ?", [source, key]
            ) {
                Cached(found: $0.bool(0), data: $0.isNull(1) ? nil : $0.bytes(1), fetchedAt: $0.int64(2))
            }
        }
    }

    func cache(source: String, key: String, _ entry: Cached) throws {
        try db.write { connection in
            try connection.run(
                "INSERT OR REPLACE INTO lookup_cache (source, key, found, data, fetched_at) VALUES (?, ?, ?, ?, ?)",
                source, key, entry.found, entry.data.map { SQLValue.blob($0) } ?? .null, entry.fetchedAt)
        }
    }

    static func decode(_ row: Row) -> Stored {
        Stored(
            name: row.string(0), urlTemplate: row.string(1),
            headers: (try? JSONCoding.decode([String: String].self, from: row.bytes(2))) ?? [:], timeoutMs: row.int(3),
            cacheTtlSeconds: row.int(4), updatedAt: row.string(5))
    }
}
