import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Storage
import Synchronization

/// Workflow versions (each `PUT` appends one; the newest is active) and paused runs.
final class WorkflowStore: Sendable {
    let db: Database
    /// Routing's events: each saved version is `workflow.published` in the transaction that stores it.
    let events: EventLog
    private let parsed = Mutex<[Int: WorkflowDocument]>([:])
    /// The newest version and the conversations with a paused run, mirrored in memory so routing a
    /// conversation asks the database only when there is something to read.
    private let activeCache: Mutex<Int?>
    private let pausedCache: Mutex<Set<String>>

    init(db: Database, events: EventLog) throws {
        self.db = db
        self.events = events
        let (active, paused, runVersions) = try db.read { connection in
            (
                try connection.scalarInt("SELECT max(version) FROM workflows"),
                Set(try connection.query("SELECT conversation_id FROM workflow_runs") { $0.string(0) }),
                try connection.query(
                    """
                    SELECT DISTINCT json_extract(CAST(run AS TEXT), '$.version') FROM workflow_runs
                    WHERE json_valid(CAST(run AS TEXT))
                    """
                ) { $0.int(0) }
            )
        }
        activeCache = Mutex(active)
        pausedCache = Mutex(paused)
        // Every version a decision may run is read here, at start, and each new one when it is saved, so
        // decisions, which run on event loops, never read one: a version saved before conditions were limited
        // may nest one as deep as JSON allows (512 levels), and reading that overflowed a loop's stack when
        // loops had 1 MiB (8 MiB now, see `HTTPServer`). A version that no longer reads is left for
        // `document` to report when a run needs it.
        for version in Set(runVersions + (active.map { [$0] } ?? [])) { _ = try? document(version) }
    }

    struct Version: Codable, Sendable {
        var version: Int
        var createdAt: String

        /// The version as `GET /v1/workflow` shows it: the document as it was sent, with its
        /// `version` and `createdAt`.
        func shown(_ document: JSONValue) -> JSONValue {
            var shown = document.objectValue ?? [:]
            shown["version"] = .number(Double(version))
            shown["createdAt"] = .string(createdAt)
            return .object(shown)
        }
    }

    /// Stores `json` as the next version, published as the active one (`workflow.published`), and
    /// keeps `document`, what it reads as, for its runs.
    func save(_ json: JSONValue, parsed document: WorkflowDocument) throws -> Version {
        try db.write { connection in
            let next = (try connection.scalarInt("SELECT max(version) FROM workflows") ?? 0) + 1
            let now = Timestamp.now()
            try connection.run(
                "INSERT INTO workflows (version, document, created_at) VALUES (?, ?, ?)", next,
                SQLValue.blob(try JSONCoding.encode(json)), now)
            let saved = Version(version: next, createdAt: now)
            try events.record(connection, .workflowPublished(saved.shown(json)))
            // Once durable: a version is run only after its commit, and never an older one after a newer.
            connection.afterCommit {
                self.parsed.withLock { $0[next] = document }
                self.activeCache.withLock { $0 = next }
            }
            return saved
        }
    }

    /// The active (newest) version's number, stored JSON and time.
    func active() throws -> (Version, JSONValue)? {
        let row = try db.read { connection in
            try connection.first("SELECT version, document, created_at FROM workflows ORDER BY version DESC LIMIT 1") {
                ($0.int(0), $0.bytes(1), $0.string(2))
            }
        }
        guard let row else { return nil }
        return (Version(version: row.0, createdAt: row.2), try JSONCoding.decode(JSONValue.self, from: row.1))
    }

    func versions() throws -> [Version] {
        try db.read { connection in
            try connection.query("SELECT version, created_at FROM workflows ORDER BY version DESC") {
                Version(version: $0.int(0), createdAt: $0.string(1))
            }
        }
    }

    /// A version's document, parsed once and kept (versions never change).
    func document(_ version: Int) throws -> WorkflowDocument? {
        if let cached = parsed.withLock({ $0[version] }) { return cached }
        let bytes = try db.read { connection in
            try connection.first("SELECT document FROM workflows WHERE version = ?", [version]) { $0.bytes(0) }
        }
        guard let bytes else { return nil }
        let document = try WorkflowParser.parse(try JSONCoding.decode(JSONValue.self, from: bytes), known: nil)
        parsed.withLock { $0[version] = document }
        return document
    }

    func activeVersion() -> Int? { activeCache.withLock { $0 } }

    /// Whether a workflow may run for this request (`RoutingEngine.runWorkflow` decides): a paused
    /// run to resume, or an active workflow for a new or reopened conversation. From memory only.
    func mayRun(_ request: RouteRequest) -> Bool {
        switch request.event {
        case .new, .reopened: activeVersion() != nil || pausedCache.withLock { $0.contains(request.conversationId) }
        case .message: pausedCache.withLock { $0.contains(request.conversationId) }
        case .moved, .rerouted: false
        }
    }

    func run(_ conversationID: String) throws -> WorkflowRun? {
        guard pausedCache.withLock({ $0.contains(conversationID) }) else { return nil }
        let bytes = try db.read { connection in
            try connection.first("SELECT run FROM workflow_runs WHERE conversation_id = ?", [conversationID]) {
                $0.bytes(0)
            }
        }
        return try bytes.map { try JSONCoding.decode(WorkflowRun.self, from: $0) }
    }

    /// Call after the transaction that saved or deleted runs committed.
    func remember(paused conversationID: String, _ isPaused: Bool) {
        pausedCache.withLock { if isPaused { $0.insert(conversationID) } else { $0.remove(conversationID) } }
    }

    static func saveRun(_ connection: Connection, conversationID: String, _ run: WorkflowRun) throws {
        try connection.run(
            "INSERT OR REPLACE INTO workflow_runs (conversation_id, run, updated_at) VALUES (?, ?, ?)", conversationID,
            SQLValue.blob(try JSONCoding.encode(run)), Timestamp.now())
    }

    static func deleteRun(_ connection: Connection, conversationID: String) throws {
        try connection.run("DELETE FROM workflow_runs WHERE conversation_id = ?", conversationID)
    }
}
