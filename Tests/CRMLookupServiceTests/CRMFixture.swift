import ConciergeAuth
import ConciergeClients
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import HTTPServer
import Storage
import TestSupport

@testable import CRMLookupService

/// The CRM-lookup service's real routes, stores and HTTP server in-process over a temporary database,
/// on a free port, with one external source `crm` pointing at a `StubCRM`. Lookups age on a clock the
/// test owns (`time`); nothing sleeps through a cool-down.
struct CRMFixture: Sendable {
    let db: Database
    let events: EventLog
    let port: Int
    let signer: JWTSigner
    let crm: StubCRM
    let crmPort: Int
    let time: ManualTime
    let breakers: SourceBreakers

    /// Runs `body` with the service up and the source saved; stops it and removes the database afterwards.
    static func with(_ body: (CRMFixture) async throws -> Void) async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Database(path: folder + "/crm.sqlite", migrations: CRMMigrations.all, checkpointInterval: nil)
            let events = try EventLog(db: db, service: "crm-lookup")
            let signer = JWTSigner(secret: "crm-fixture-secret")
            let crm = StubCRM()
            try await crm.serve { crmPort in
                let sources = SourceStore(db: db, events: events)
                let breaker = CircuitBreaker()
                let time = ManualTime(Date())
                var lookup = SourceLookup(
                    store: sources, breaker: breaker, http: HTTPClient(),
                    logger: Logger(service: "crm-lookup", sink: MemorySink()), metrics: Metrics())
                lookup.time = time
                let router = Router()
                CustomerRoutes(customers: CustomerStore(db: db, events: events), sources: lookup, metrics: Metrics())
                    .register(on: router)
                SourceRoutes(store: sources, breaker: breaker, policy: OutboundPolicy(allowsPrivateTargets: true))
                    .register(on: router)
                let server = HTTPServer(
                    ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1), router: router,
                    logger: Logger(service: "crm-tests", level: .error, sink: MemorySink()), signer: signer)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    do {
                        let fixture = CRMFixture(
                            db: db, events: events, port: try await server.waitUntilListening(), signer: signer,
                            crm: crm,
                            crmPort: crmPort, time: time, breakers: SourceBreakers(breaker: breaker, store: sources))
                        try await fixture.saveSource()
                        try await body(fixture)
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
    }

    /// `PUT /v1/sources/crm` with an API key header (which reads show masked); returns the status.
    @discardableResult
    func saveSource() async throws -> Int {
        let body = #"""
            {"urlTemplate":"http://127.0.0.1:\#(crmPort)/customers?email={{email}}","headers":{"X-Api-Key":"sk_live_0123456789"},"timeoutMs":2000,"cacheTtlSeconds":0}
            """#
        return try await send("PUT", "/v1/sources/crm", body).status
    }

    /// Sends a request as `role` and returns the answer, whatever its status.
    @discardableResult
    func send(
        _ method: String, _ path: String, _ body: String? = nil, as role: Role = .administrator,
        contentType: String = "application/json"
    ) async throws -> ClientResponse {
        let client = ServiceClient(
            baseURL: "http://127.0.0.1:\(port)", tokens: .fixed(signer.mint(sub: role.rawValue, role: role, ttl: 600)))
        return try await client.raw(method, path, body: body.map { Array($0.utf8) }, contentType: contentType)
    }

    /// A lookup through source `crm` (cached for 0 s, so every one asks the CRM unless its breaker is
    /// open); returns the status: 200 answered, 502 failed, 503 skipped.
    func lookup() async throws -> Int {
        try await send("GET", "/v1/lookup?email=ada%40example.com&source=crm", as: .service).status
    }

    /// Every event after `seq`, oldest first.
    func recorded(after seq: Int64 = 0) throws -> [Event] {
        try events.page(after: seq, filter: EventFilter(), limit: 500).events
    }

    func head() throws -> Int64 { try events.lastSeq() }
}
