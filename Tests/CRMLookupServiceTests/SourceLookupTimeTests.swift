import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import HTTPServer
import Storage
import Synchronization
import TestSupport
import Testing

@testable import CRMLookupService

/// `SourceLookup` on a clock the test owns (`ManualTime`): a cached answer ages, and a failing
/// source's breaker cools down, without the test sleeping through either.
@Suite struct SourceLookupTimeTests {
    @Test func aCachedAnswerIsServedForItsTTLAndAskedForAgainAfter() async throws {
        try await withLookup(ttl: 60) { lookup, crm, time in
            #expect(try await lookup.lookup(source: "crm", by: "email", value: "a@example.com").found)
            #expect(crm.requests == 1)
            time.advance(by: 59)
            let cached = try await lookup.lookup(source: "crm", by: "email", value: "a@example.com")
            #expect(cached.found && cached.stale == false)
            #expect(crm.requests == 1, "served from the cache within its TTL")
            time.advance(by: 2)
            _ = try await lookup.lookup(source: "crm", by: "email", value: "a@example.com")
            #expect(crm.requests == 2, "asked again once the TTL passed")
        }
    }

    @Test func aFailingSourceIsSkippedForItsCoolDownThenTriedOnce() async throws {
        try await withLookup(ttl: 60) { lookup, crm, time in
            crm.status = 500
            for attempt in 1...5 {
                await #expect(throws: CRMError.self, "failure \(attempt)") {
                    try await lookup.lookup(source: "crm", by: "email", value: "b@example.com")
                }
            }
            #expect(crm.requests == 5)
            // Open: skipped without a call, until the cool-down is over.
            #expect(await Self.skipped(lookup))
            time.advance(by: 29)
            #expect(await Self.skipped(lookup))
            #expect(crm.requests == 5)
            // The cool-down is over: one trial goes out, and the source answering closes the breaker.
            time.advance(by: 2)
            crm.status = 200
            let answer = try await lookup.lookup(source: "crm", by: "email", value: "b@example.com")
            #expect(answer.found)
            #expect(crm.requests == 6)
        }
    }

    /// Whether the lookup was refused because the source's breaker is open.
    private static func skipped(_ lookup: SourceLookup) async -> Bool {
        do {
            _ = try await lookup.lookup(source: "crm", by: "email", value: "b@example.com")
            return false
        } catch CRMError.sourceSkipped("crm") {
            return true
        } catch {
            return false
        }
    }

    /// A lookup over a temporary database, a CRM stub on a free port and a clock that moves only
    /// when the test says.
    private func withLookup(
        ttl: Int, _ body: (SourceLookup, StubCRM, ManualTime) async throws -> Void
    ) async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Database(path: folder + "/crm.sqlite", migrations: CRMMigrations.all, checkpointInterval: nil)
            let crm = StubCRM()
            try await crm.serve { port in
                let store = SourceStore(db: db, events: try EventLog(db: db, service: "crm-lookup"))
                try store.save(
                    SourceStore.Stored(
                        name: "crm", urlTemplate: "http://127.0.0.1:\(port)/customers?email={{email}}", headers: [:],
                        timeoutMs: 2000, cacheTtlSeconds: ttl, updatedAt: "2026-12-04T15:00:00.000Z"))
                let time = ManualTime(Date())
                var lookup = SourceLookup(
                    store: store, breaker: CircuitBreaker(), http: HTTPClient(),
                    logger: Logger(service: "crm-lookup", sink: MemorySink()), metrics: Metrics())
                lookup.time = time
                try await body(lookup, crm, time)
            }
        }
    }
}

/// A CRM on a free local port that answers every lookup with one customer, or with `status` when
/// that is not 200, and counts the requests.
final class StubCRM: Sendable {
    private let state = Mutex((requests: 0, status: 200))

    var requests: Int { state.withLock { $0.requests } }
    var status: Int {
        get { state.withLock { $0.status } }
        set { state.withLock { $0.status = newValue } }
    }

    func serve(_ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/customers", access: .open) { [self] _, _ in
            let status = state.withLock { state in
                state.requests += 1
                return state.status
            }
            guard status == 200 else { return .problem(Problem(status: status, title: "Down", detail: "stub")) }
            return try .json(["customerType": "VIP"])
        }
        let server = HTTPServer(
            ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1), router: router,
            logger: Logger(service: "crm-stub", level: .error, sink: MemorySink()), signer: nil)
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
