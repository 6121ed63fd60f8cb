import ConciergeModels
import Events
import Storage

/// One of the CRM-lookup service's write transactions on its sources, lent by `SourceStore.write`:
/// a source saved or deleted, and the breaker event that goes with it.
struct SourceTransaction {
    /// The writer's connection, inside the transaction (Store code only).
    let connection: Connection
    let events: EventLog

    func source(_ name: String) throws -> SourceStore.Stored? {
        try SourceStore.get(connection, name)
    }

    func save(_ source: SourceStore.Stored) throws {
        try connection.run(
            """
            INSERT OR REPLACE INTO sources (name, url_template, headers, timeout_ms, cache_ttl_seconds, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            source.name, source.urlTemplate, SQLValue.blob(try JSONCoding.encode(source.headers)), source.timeoutMs,
            source.cacheTtlSeconds, source.updatedAt)
    }

    /// Deletes the source and its cached answers; `false` when there was no such source.
    func delete(_ name: String) throws -> Bool {
        try connection.run("DELETE FROM lookup_cache WHERE source = ?", name)
        return try connection.run("DELETE FROM sources WHERE name = ?", name) == 1
    }

    /// Records a breaker's opening or closing in this transaction: published once it commits, never
    /// if it rolls back. Sources are no agent's business (no audience).
    /// - Parameter source: the source as reads show it after the change.
    func record(_ event: BreakerEvent, source: Source) throws {
        try events.record(connection, event.type, data: try event.data(source), audience: nil)
    }
}
