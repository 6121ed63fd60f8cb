import ConciergeAuth
import ConciergeClients
import ConciergeCore
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import HTTPServer
import Storage
import TestSupport

@testable import ContactsService

/// The contacts service's real routes, store and HTTP server in-process over a temporary database, on
/// a free port; its calls to routing (dedicated heroes) go to a stub that knows one active agent, one
/// deactivated agent and one inbox. The outbox is never started.
struct ContactsFixture: Sendable {
    static let agent = "agent-ada"
    static let deactivated = "agent-gone"
    static let inbox = "inbox-vip"

    let events: EventLog
    let port: Int
    let signer: JWTSigner

    /// Runs `body` with the service up; stops it and removes the database afterwards.
    static func with(_ body: (ContactsFixture) async throws -> Void) async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Database(
                path: folder + "/contacts.sqlite", migrations: ContactMigrations.all, checkpointInterval: nil)
            let events = try EventLog(db: db, service: "contacts")
            let signer = JWTSigner(secret: "contacts-fixture-secret")
            try await serve(routingStub(), signer: nil) { routingPort in
                let routing = RoutingClient(baseURL: "http://127.0.0.1:\(routingPort)", tokens: nil)
                let router = Router()
                ContactRoutes(
                    store: ContactStore(db: db, events: events), heroes: HeroValidator(routing: routing),
                    metrics: Metrics()
                ).register(on: router)
                try await serve(router, signer: signer) { port in
                    try await body(ContactsFixture(events: events, port: port, signer: signer))
                }
            }
        }
    }

    /// Sends a request as `role` and returns the answer, whatever its status.
    @discardableResult
    func send(
        _ method: String, _ path: String, _ body: String? = nil, as role: Role = .teamManager,
        headers: [(name: String, value: String)] = []
    ) async throws -> ClientResponse {
        let client = ServiceClient(
            baseURL: "http://127.0.0.1:\(port)", tokens: .fixed(signer.mint(sub: role.rawValue, role: role, ttl: 600)))
        return try await client.raw(method, path, body: body.map { Array($0.utf8) }, headers: headers)
    }

    /// Creates a contact and returns its id.
    func create(_ body: String) async throws -> String {
        let response = try await send("POST", "/v1/contacts", body)
        guard response.status == 201, let id = try JSONParser.parse(response.body).objectValue?["id"]?.stringValue
        else { throw FixtureError.unexpected(response.status, String(decoding: response.body, as: UTF8.self)) }
        return id
    }

    /// The contact as `GET /v1/contacts/{id}` answers it, byte for byte.
    func get(_ id: String) async throws -> [UInt8] {
        let response = try await send("GET", "/v1/contacts/\(id)")
        guard response.status == 200 else {
            throw FixtureError.unexpected(response.status, String(decoding: response.body, as: UTF8.self))
        }
        return response.body
    }

    /// Every event after `seq`, oldest first.
    func recorded(after seq: Int64 = 0) throws -> [Event] {
        try events.page(after: seq, filter: EventFilter(), limit: 500).events
    }

    /// The highest `seq` so far.
    func head() throws -> Int64 { try events.lastSeq() }

    enum FixtureError: Error {
        case unexpected(Int, String)
    }

    /// Routing as the hero check asks it: `GET /v1/agents/{id}` and `GET /v1/inboxes/{id}`.
    private static func routingStub() -> Router {
        let router = Router()
        router.get("/v1/agents/{id}", access: .open) { _, context in
            let id = try context.parameters.require("id")
            guard id == agent || id == deactivated else { return .problem(.notFound("Agent", id: id)) }
            return try .json(
                Agent(
                    id: id, name: id, email: "\(id)@example.com", role: .agent, active: id == agent,
                    availability: .available, inboxIds: [], heroInboxId: nil, capacity: .defaultCapacity,
                    load: ChannelCounts(), createdAt: "2026-12-01T00:00:00.000Z"))
        }
        router.get("/v1/inboxes/{id}", access: .open) { _, context in
            let id = try context.parameters.require("id")
            guard id == inbox else { return .problem(.notFound("Inbox", id: id)) }
            return try .json(
                Inbox(
                    id: id, name: "VIP", senderName: "VIP", signature: "", defaultFor: [], strategy: .roundRobin,
                    memberIds: []))
        }
        return router
    }

    /// Serves `router` on a free local port while `body` runs.
    private static func serve(_ router: Router, signer: JWTSigner?, _ body: (Int) async throws -> Void)
        async throws
    {
        let server = HTTPServer(
            ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1), router: router,
            logger: Logger(service: "contacts-tests", level: .error, sink: MemorySink()), signer: signer)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                try await body(try await server.waitUntilListening())
                server.shutdown()
                try await group.waitForAll()
            } catch {
                server.shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
