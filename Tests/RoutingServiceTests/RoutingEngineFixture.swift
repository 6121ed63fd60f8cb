import ConciergeClients
import ConciergeCore
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import Outbox
import Storage
import TestSupport

@testable import HTTPServer
@testable import RoutingService

/// The real `RoutingEngine` over a temporary routing database, in process: no executables, no
/// ports. The outbox is never started, so its entries stay in the table for tests to read; workflow
/// lookups and answers go to an address nobody listens on unless a test passes its own runner.
final class RoutingEngineFixture: Sendable {
    let path: String
    let db: Database
    let runner: WorkflowRunner
    let events: EventLog
    let engine: RoutingEngine

    /// Nobody listens on port 9 (discard) on a test machine: a call there fails at once.
    static let unreachable = "http://127.0.0.1:9"

    static func runner(crmURL: String = unreachable, contactsURL: String = unreachable) -> WorkflowRunner {
        WorkflowRunner(
            crm: CRMLookupClient(baseURL: crmURL, tokens: nil, timeout: 2),
            contacts: ContactsClient(baseURL: contactsURL, tokens: nil, timeout: 2))
    }

    init(path: String, runner: WorkflowRunner = runner()) throws {
        self.path = path
        self.runner = runner
        db = try Database(path: path, migrations: RoutingMigrations.all, checkpointInterval: nil)
        events = try EventLog(db: db, service: "routing")
        engine = try Self.engine(db, events, runner)
    }

    private static func engine(_ db: Database, _ events: EventLog, _ runner: WorkflowRunner) throws -> RoutingEngine {
        let outbox = Outbox(
            db: db, targets: [:], logger: Logger(service: "routing-tests", level: .error, sink: MemorySink()))
        return try RoutingEngine(
            store: RoutingStore(db: db, events: events), workflows: try WorkflowStore(db: db, events: events),
            runner: runner, outbox: outbox, metrics: Metrics())
    }

    /// Runs `body` with a fixture over a new database in a temporary folder removed afterwards.
    static func with<T>(runner: WorkflowRunner = runner(), _ body: (RoutingEngineFixture) async throws -> T)
        async throws -> T
    {
        try await withTemporaryFolderAsync { folder in
            try await body(try RoutingEngineFixture(path: folder + "/routing.sqlite", runner: runner))
        }
    }

    /// A second engine built from what the database holds, as after a restart: nothing carried over
    /// in memory. Use only the new engine afterwards.
    func reloaded() throws -> RoutingEngine { try Self.engine(db, events, runner) }

    // MARK: - Setting up

    func inbox(
        _ name: String, defaultFor: [Channel] = [], strategy: Strategy = .roundRobin, on engine: RoutingEngine? = nil
    ) async throws -> Inbox {
        try await (engine ?? self.engine).createInbox(NewInbox(name: name, defaultFor: defaultFor, strategy: strategy))
    }

    /// An agent whose email follows from its name; capacity channels not given keep the defaults.
    func agent(
        _ name: String, inboxes: [Inbox] = [], capacity: PartialCounts? = nil, availability: Availability? = nil,
        heroInbox: Inbox? = nil
    ) async throws -> Agent {
        try await engine.createAgent(
            NewAgent(
                name: name, email: "\(name.lowercased())@example.com", availability: availability,
                inboxIds: inboxes.map(\.id),
                heroInboxId: heroInbox?.id, capacity: capacity))
    }

    /// A workflow checked against the ids the engine knows, then saved as the active version.
    func publish(_ workflow: String) throws {
        let json = try JSONCoding.decode(JSONValue.self, from: Array(workflow.utf8))
        let document = try WorkflowParser.parse(json, known: engine.read { $0.knownIDs })
        _ = try engine.workflows.save(json, parsed: document)
    }

    // MARK: - Routing

    /// `POST /v1/route` for a new conversation from contact `k-1` (or `contact`); the message id is
    /// `<conversation>-m-<event>` unless given.
    func route(
        _ conversationID: String, _ channel: Channel, hero: DedicatedHero? = nil, contact: RouteContact? = nil,
        body: String = "Hello", event: RouteEvent = .new, inboxID: String? = nil, messageID: String? = nil,
        on engine: RoutingEngine? = nil
    ) async throws -> RouteResult {
        var who = contact ?? RouteContact(id: "k-1", name: "Kim")
        if let hero { who.dedicatedHero = hero }
        let request = RouteRequest(
            conversationId: conversationID, event: event, channel: channel, inboxId: inboxID, contact: who,
            message: RouteMessage(id: messageID ?? "\(conversationID)-m-\(event.rawValue)", body: body))
        return try await (engine ?? self.engine).route(request).result
    }

    // MARK: - Reading back

    /// Conversations waiting in a queue, or in an inbox's implicit queue, in service order.
    func waiting(_ queueOrInboxID: String, on engine: RoutingEngine? = nil) throws -> [String] {
        try (engine ?? self.engine).queue(queueOrInboxID).waiting ?? []
    }

    func load(_ agentID: String, on engine: RoutingEngine? = nil) throws -> ChannelCounts {
        try (engine ?? self.engine).agent(agentID).load
    }

    /// The latest stored decision for a conversation (`GET /v1/routes/{id}`).
    func decision(_ conversationID: String) throws -> RouteResult { try engine.decision(conversationID) }

    /// Assignee of each conversation's latest decision, `nil` when not assigned.
    func assignees(_ conversationIDs: [String]) throws -> [String?] {
        try conversationIDs.map { try decision($0).assigneeId }
    }

    /// Decisions announced to the conversations service through the outbox, oldest first.
    func announced() throws -> [RouteResult] { try outbox("routing-decision", as: RouteResult.self) }

    /// Events recorded after `seq` (all when `nil`) of the given types (exact names or `agent.*`
    /// prefixes; every type when `nil`), oldest first, as `GET /v1/events` reads them.
    func events(_ types: String? = nil, after seq: Int64? = nil) throws -> [Event] {
        try events.page(after: seq, filter: EventFilter(types: types, audience: nil), limit: 500).events
    }

    /// Bodies of the outbox entries of one kind (`OutboxCall.Kind`), oldest first.
    func outbox<T: Decodable>(_ kind: String, as type: T.Type) throws -> [T] {
        let bodies = try db.read { connection in
            try connection.query("SELECT body FROM outbox WHERE kind = ? ORDER BY seq", [kind]) { $0.bytes(0) }
        }
        return try bodies.map { try JSONCoding.decode(T.self, from: $0) }
    }
}

extension RouteResult {
    /// The trace's step names in order.
    var steps: [String] { trace.map(\.step) }

    /// The outcome of the first trace line of this step.
    func outcome(_ step: String) -> String? { trace.first { $0.step == step }?.outcome }
}
