import ConciergeCore
import ConciergeJSON
import ConciergeModels
import Foundation
import Storage
import Synchronization

/// A service's events: recorded in the transaction of the change they report, read back in `seq`
/// order, published live once committed (`hub`), and pruned after the retention period.
public final class EventLog: Sendable {
    public let service: String
    public let hub: EventHub
    /// How long events are kept.
    public let retention: TimeInterval
    private let db: Database
    private let time: any TimeSource
    /// For event types a service stores in a compact form of its own: its JSON back from what is
    /// stored (`record(…, storedAs:)`).
    private let unpackers: Mutex<[String: @Sendable ([UInt8]) -> [UInt8]?]>

    /// - Parameters:
    ///   - service: the `service` field of every event (`conversations`, …).
    ///   - retention: how long events are kept (default 168 h).
    public init(
        db: Database, service: String, retention: TimeInterval = 168 * 3600, time: any TimeSource = SystemTime()
    )
        throws
    {
        self.db = db
        self.service = service
        self.retention = retention
        self.time = time
        self.unpackers = Mutex([:])
        let last = try db.read { try Self.lastSeq($0) }
        hub = EventHub(lastSeq: last)
    }

    /// Lets events of `type` be stored in a service's own compact form (`record(…, storedAs:)`):
    /// `unpack` gives their JSON back when they are read. Set at start-up, before anything is recorded.
    public func store(_ type: String, unpackingWith unpack: @escaping @Sendable ([UInt8]) -> [UInt8]?) {
        unpackers.withLock { $0[type] = unpack }
    }

    /// Records an event in the transaction open on `connection`. Its `seq` is the next one; it is
    /// published live once the transaction commits, and never if it rolls back.
    /// - Parameters:
    ///   - data: the resource as it is after the change, as JSON (an object).
    ///   - audience: the agent who may see it besides managers and services (see `Event`).
    ///   - storedAs: what to store instead of `data`, for a type with an unpacker (the same bytes a
    ///     service already keeps compactly, say).
    @discardableResult
    public func record(
        _ connection: Connection, _ type: String, data: [UInt8], audience: String?, storedAs stored: [UInt8]? = nil
    ) throws -> Event {
        let now = time.now
        let id = Identifier.make(now: now)
        let occurredAt = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        precondition(stored == nil || unpackers.withLock { $0[type] } != nil, "no unpacker for \(type)")
        try connection.run(
            "INSERT INTO events (id, type, audience, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
            id, type, audience, occurredAt, SQLValue.blob(stored ?? data))
        let event = Event(
            seq: connection.lastInsertRowID, id: id, type: type, audience: audience, occurredAt: occurredAt,
            service: service, data: data)
        let hub = self.hub
        connection.afterCommit { hub.publish(event) }
        return event
    }

    /// `record` with the data written by `writable`.
    @discardableResult
    public func record(_ connection: Connection, _ type: String, _ data: some JSONWritable, audience: String?) throws
        -> Event
    {
        var writer = JSONWriter()
        data.write(to: &writer)
        return try record(connection, type, data: writer.bytes, audience: audience)
    }

    /// A page of events after `after` (oldest first) that `filter` wants.
    public struct Page: Sendable {
        public var events: [Event]
        /// Whether more such events are committed past the page.
        public var hasMore: Bool
        /// The highest `seq` this read looked at: the last event of a full page, else the table's
        /// highest (every event up to it that the filter wants is in the page).
        public var scannedThrough: Int64
    }

    /// The reader asked for events older than the oldest kept: it must resync from the resources.
    public struct Gone: Error, Sendable {
        public let oldestKept: Int64
    }

    /// Events after `after` (`nil`: from the oldest kept) that `filter` wants, at most `limit`.
    /// Throws `Gone` when events after `after` have been pruned.
    public func page(after: Int64?, filter: EventFilter, limit: Int) throws -> Page {
        try db.read { connection in
            let last = try Self.lastSeq(connection)
            let oldest: Int64? =
                try connection.first("SELECT min(seq) FROM events") { row in
                    row.isNull(0) ? nil : row.int64(0)
                } ?? nil
            // With nothing kept, the next event is the oldest there can be.
            let oldestKept = oldest ?? last + 1
            if let after, after + 1 < oldestKept { throw Gone(oldestKept: oldestKept) }
            let start = after ?? oldestKept - 1
            var sql = "SELECT seq, id, type, audience, occurred_at, data FROM events WHERE seq > ?"
            var values: [any SQLBindable] = [start]
            if let audience = filter.audience {
                sql += " AND audience = ?"
                values.append(audience)
            }
            if !filter.matchesEveryType {
                var alternatives: [String] = []
                if !filter.names.isEmpty {
                    alternatives.append(
                        "type IN (\(Array(repeating: "?", count: filter.names.count).joined(separator: ",")))")
                    values.append(contentsOf: filter.names.sorted() as [any SQLBindable])
                }
                for prefix in filter.prefixes {
                    // Type names are letters, digits, `.` and `_` (`EventFilter`): no GLOB metacharacters.
                    alternatives.append("type GLOB ?")
                    values.append(prefix + "*")
                }
                sql += " AND (" + alternatives.joined(separator: " OR ") + ")"
            }
            sql += " ORDER BY seq LIMIT ?"
            values.append(limit + 1)
            let unpackers = self.unpackers.withLock { $0 }
            var events = try connection.query(sql, values) { row in
                let type = row.string(2)
                var data = row.bytes(5)
                if let unpack = unpackers[type] { data = unpack(data) ?? Array("{}".utf8) }
                return Event(
                    seq: row.int64(0), id: row.string(1), type: type, audience: row.optionalString(3),
                    occurredAt: row.int64(4), service: service, data: data)
            }
            let hasMore = events.count > limit
            if hasMore { events.removeLast() }
            return Page(
                events: events, hasMore: hasMore, scannedThrough: hasMore ? events.last?.seq ?? start : max(start, last)
            )
        }
    }

    /// Deletes the events older than the retention period, oldest first and always a prefix of the
    /// table (a clock stepping back never leaves a hole), but never the newest event: it holds the
    /// numbering. Returns how many went.
    @discardableResult
    public func prune(batch: Int = 10_000) throws -> Int {
        let cutoff = Int64(((time.now.timeIntervalSince1970 - retention) * 1000).rounded(.down))
        var total = 0
        while true {
            let deleted = try db.write { connection -> Int in
                // From the oldest, up to the first event to keep (or the batch's end); never the newest.
                var through: Int64?
                var stopped = false
                let newest = try Self.lastSeq(connection)
                try connection.forEach("SELECT seq, occurred_at FROM events ORDER BY seq LIMIT ?", [batch]) { row in
                    guard !stopped else { return }
                    if row.int64(1) < cutoff && row.int64(0) < newest {
                        through = row.int64(0)
                    } else {
                        stopped = true
                    }
                }
                guard let through else { return 0 }
                return try connection.run("DELETE FROM events WHERE seq <= ?", through)
            }
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// The highest `seq` committed so far, 0 before the first.
    public func lastSeq() throws -> Int64 {
        try db.read { try Self.lastSeq($0) }
    }

    /// The highest `seq` ever given: the newest event's, which pruning keeps; 0 before the first.
    static func lastSeq(_ connection: Connection) throws -> Int64 {
        try connection.first("SELECT coalesce(max(seq), 0) FROM events") { $0.int64(0) } ?? 0
    }
}
