import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import HTTPServer
import Storage
import TestSupport
import Testing

@testable import CRMLookupService

/// The per-source circuit breaker (SPEC §7: "after 5 failures in a row the source is skipped for
/// 30 s"), on a clock the test owns: every call is given its `now`, nothing sleeps.
@Suite struct CircuitBreakerTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// A breaker with `failures` failures of `source` recorded at t0.
    static func breaker(failing failures: Int, _ source: String = "crm", threshold: Int = 5, cooldown: Double = 30)
        -> CircuitBreaker
    {
        let breaker = CircuitBreaker(threshold: threshold, cooldown: cooldown)
        for _ in 0..<failures { breaker.record(.failed, for: source, now: t0) }
        return breaker
    }

    @Test func theDefaultsAreFiveFailuresAndThirtySeconds() {
        let breaker = CircuitBreaker()
        #expect(breaker.threshold == 5)
        #expect(breaker.cooldown == 30)
    }

    @Test func fewerFailuresThanTheThresholdKeepItClosed() {
        let breaker = Self.breaker(failing: 4)
        #expect(breaker.describe("crm", now: Self.t0) == "closed")
        #expect(breaker.allow("crm", now: Self.t0))
        #expect(breaker.allow("crm", now: Self.t0))
    }

    @Test func theFifthFailureInARowOpensItForTheCooldown() {
        let breaker = Self.breaker(failing: 5)
        #expect(breaker.describe("crm", now: Self.t0) == "open")
        #expect(!breaker.allow("crm", now: Self.t0))
        #expect(!breaker.allow("crm", now: Self.at(29.999)))
        #expect(breaker.describe("crm", now: Self.at(29.999)) == "open")
    }

    @Test func afterTheCooldownItHalfOpensAndLetsExactlyOneTrialThrough() {
        let breaker = Self.breaker(failing: 5)
        #expect(breaker.describe("crm", now: Self.at(30)) == "half_open")
        #expect(breaker.allow("crm", now: Self.at(30)))
        // The trial is in flight: everyone else is still refused, however late.
        #expect(!breaker.allow("crm", now: Self.at(30)))
        #expect(!breaker.allow("crm", now: Self.at(3_600)))
    }

    @Test func aSuccessfulTrialClosesItAndTheCountStartsAgain() {
        let breaker = Self.breaker(failing: 5)
        #expect(breaker.allow("crm", now: Self.at(31)))
        breaker.record(.succeeded, for: "crm")
        #expect(breaker.describe("crm", now: Self.at(31)) == "closed")
        #expect(breaker.allow("crm", now: Self.at(31)))
        #expect(breaker.allow("crm", now: Self.at(31)))
        for _ in 0..<4 { breaker.record(.failed, for: "crm", now: Self.at(32)) }
        #expect(breaker.allow("crm", now: Self.at(32)), "four failures after closing are not five in a row")
        breaker.record(.failed, for: "crm", now: Self.at(32))
        #expect(!breaker.allow("crm", now: Self.at(32)))
    }

    @Test func aFailedTrialOpensItForAnotherCooldownFromThen() {
        let breaker = Self.breaker(failing: 5)
        #expect(breaker.allow("crm", now: Self.at(40)))
        breaker.record(.failed, for: "crm", now: Self.at(40))
        #expect(breaker.describe("crm", now: Self.at(40)) == "open")
        #expect(!breaker.allow("crm", now: Self.at(69.999)))
        #expect(breaker.allow("crm", now: Self.at(70)))
    }

    @Test func aSuccessBetweenFailuresResetsTheCount() {
        let breaker = Self.breaker(failing: 4)
        breaker.record(.succeeded, for: "crm")
        for _ in 0..<4 { breaker.record(.failed, for: "crm", now: Self.t0) }
        #expect(breaker.describe("crm", now: Self.t0) == "closed")
        #expect(breaker.allow("crm", now: Self.t0))
    }

    @Test func eachSourceHasItsOwnBreaker() {
        let breaker = Self.breaker(failing: 5, "broken")
        breaker.record(.failed, for: "healthy", now: Self.t0)
        #expect(!breaker.allow("broken", now: Self.t0))
        #expect(breaker.allow("healthy", now: Self.t0))
        #expect(breaker.describe("healthy", now: Self.t0) == "closed")
        #expect(breaker.describe("never-called", now: Self.t0) == "closed")
    }

    @Test func resettingClosesAnOpenBreaker() {
        let breaker = Self.breaker(failing: 5)
        breaker.reset("crm")
        #expect(breaker.describe("crm", now: Self.t0) == "closed")
        #expect(breaker.allow("crm", now: Self.t0))
    }

    @Test func thresholdAndCooldownAreConfigurable() {
        let breaker = Self.breaker(failing: 2, threshold: 2, cooldown: 5)
        #expect(!breaker.allow("crm", now: Self.at(4.999)))
        #expect(breaker.allow("crm", now: Self.at(5)))
    }

    // MARK: - Transitions, as the outside is told of them

    @Test func theFailureThatOpensItAndTheSuccessThatClosesItAreTheTransitions() {
        let breaker = Self.breaker(failing: 4)
        #expect(
            breaker.record(.failed, for: "crm", now: Self.t0)
                == .opened(failures: 5, until: Self.at(30)))
        #expect(breaker.record(.failed, for: "crm", now: Self.t0) == nil, "already open")
        #expect(breaker.allow("crm", now: Self.at(60)))
        #expect(breaker.record(.failed, for: "crm", now: Self.at(60)) == nil, "a failed trial keeps it open")
        #expect(breaker.describe("crm", now: Self.at(60)) == "open")
        #expect(breaker.record(.succeeded, for: "crm") == .closed)
        #expect(breaker.record(.succeeded, for: "crm") == nil, "closed already")
        #expect(breaker.reset("crm") == nil)
        for _ in 0..<5 { breaker.record(.failed, for: "crm", now: Self.t0) }
        #expect(breaker.reset("crm") == .closed)
    }

    @Test func aQuietRecordRefusesATransitionAndChangesNothing() {
        let breaker = Self.breaker(failing: 3)
        #expect(breaker.recordQuietly(.failed, for: "crm", now: Self.t0), "the fourth failure opens nothing")
        #expect(!breaker.recordQuietly(.failed, for: "crm", now: Self.t0), "the fifth would open it")
        #expect(breaker.describe("crm", now: Self.t0) == "closed")
        #expect(breaker.record(.failed, for: "crm", now: Self.t0) != nil, "four were counted, not five")
        #expect(breaker.recordQuietly(.failed, for: "crm", now: Self.t0), "open already: no transition")
        #expect(!breaker.recordQuietly(.succeeded, for: "crm"), "a success would close it")
        #expect(breaker.describe("crm", now: Self.t0) == "open")
        #expect(breaker.recordQuietly(.succeeded, for: "other"))
    }

    // MARK: - As `SourceLookup` drives it

    /// The breaker's half-open trial must always be reported back, or the source stays skipped for
    /// good. Here the CRM answers the trial, but caching the answer fails (a storage error, made by
    /// a trigger): `SourceLookup` must still tell the breaker the source answered (it used to rethrow
    /// without telling it either way, and the source stayed skipped).
    @Test func aTrialWhoseAnswerCannotBeCachedDoesNotLeaveTheSourceSkippedForGood() async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Database(path: folder + "/crm.sqlite", migrations: CRMMigrations.all, checkpointInterval: nil)
            try await Self.withCRM { port in
                let store = SourceStore(db: db, events: try EventLog(db: db, service: "crm-lookup"))
                try store.save(
                    SourceStore.Stored(
                        name: "crm", urlTemplate: "http://127.0.0.1:\(port)/customers?email={{email}}", headers: [:],
                        timeoutMs: 2000,
                        cacheTtlSeconds: 300, updatedAt: "2026-12-04T15:00:00.000Z"))
                try db.write { connection in
                    try connection.execute(
                        "CREATE TRIGGER no_cache BEFORE INSERT ON lookup_cache BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                    )
                }
                let breaker = CircuitBreaker()
                // Five failures 31 s ago: the cool-down is over, the next call is the trial.
                for _ in 0..<5 { breaker.record(.failed, for: "crm", now: Date().addingTimeInterval(-31)) }
                let lookup = SourceLookup(
                    store: store, breaker: breaker, http: .shared,
                    logger: Logger(service: "crm-lookup", sink: MemorySink()), metrics: Metrics())
                await #expect(throws: SQLiteError.self) {
                    try await lookup.lookup(source: "crm", by: "email", value: "a@example.com")
                }

                try db.write { try $0.execute("DROP TRIGGER no_cache") }
                // The CRM works and storage is back: the source is tried again, not skipped.
                let next = try await lookup.lookup(source: "crm", by: "email", value: "a@example.com")
                #expect(next.found)
            }
        }
    }

    /// A CRM that knows every customer, on a free local port.
    static func withCRM(_ body: (Int) async throws -> Void) async throws {
        try await StubCRM().serve(body)
    }
}
