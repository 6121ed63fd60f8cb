import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Events
import Foundation
import Storage
import TestSupport
import Testing

@testable import CRMLookupService

/// CRM sources under the outbound policy: a URL whose host is a refused address is refused when it
/// is saved (422), and a source whose host resolves to one fails like any failing source — the
/// breaker counts it, a cached answer is served stale, else 502 — and is logged and counted, without
/// a byte sent to it.
@Suite struct SourcePolicyTests {
    @Test(arguments: [
        "http://169.254.169.254/latest/meta-data/?email={{email}}",
        "http://[fe80::1]/customers?email={{email}}",
        "http://[::ffff:169.254.1.1]/customers?email={{email}}",
        "http://2852039166/customers?email={{email}}",
    ])
    func aLinkLocalURLIsRefusedWhenSavedEvenWhereLocalTargetsAreAllowed(_ template: String) throws {
        for allowsPrivate in [false, true] {
            let error = #expect(throws: CRMError.self) {
                try SourceRoutes.check(template, policy: OutboundPolicy(allowsPrivateTargets: allowsPrivate))
            }
            let problem = try #require(error?.problem)
            #expect(problem.status == 422)
            #expect(problem.errors?.first?.field == "urlTemplate")
            #expect(problem.errors?.first?.message.contains("link-local") == true, "\(problem)")
        }
    }

    @Test(arguments: [
        "http://127.0.0.1:9000/customers?email={{email}}", "http://localhost/customers?phone={{phone}}",
        "http://10.1.2.3/customers?email={{email}}", "http://[::1]:9000/customers?email={{email}}",
    ])
    func aLocalURLIsSavedOnlyWhereLocalTargetsAreAllowed(_ template: String) throws {
        let error = #expect(throws: CRMError.self) {
            try SourceRoutes.check(template, policy: OutboundPolicy(allowsPrivateTargets: false))
        }
        #expect(error?.problem.status == 422)
        #expect(error?.problem.errors?.first?.message.contains("CONCIERGE_ALLOW_PRIVATE_TARGETS") == true)
        try SourceRoutes.check(template, policy: OutboundPolicy(allowsPrivateTargets: true))
    }

    @Test func aHostNameIsSavedAndCheckedWhenResolved() throws {
        try SourceRoutes.check(
            "https://crm.example.com/customers?email={{email}}", policy: OutboundPolicy(allowsPrivateTargets: false))
    }

    /// `2130706433` is a host name to the URL check and 127.0.0.1 once the resolver has read it.
    @Test func aSourceResolvingToARefusedAddressFailsLikeAFailingSource() async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Database(path: folder + "/crm.sqlite", migrations: CRMMigrations.all, checkpointInterval: nil)
            let crm = StubCRM()
            try await crm.serve { port in
                let store = SourceStore(db: db, events: try EventLog(db: db, service: "crm-lookup"))
                try store.save(
                    SourceStore.Stored(
                        name: "crm", urlTemplate: "http://2130706433:\(port)/customers?email={{email}}",
                        headers: [:], timeoutMs: 2000, cacheTtlSeconds: 0, updatedAt: "2026-12-04T15:00:00.000Z"))
                let sink = MemorySink()
                let metrics = Metrics()
                let breaker = CircuitBreaker()
                func lookup(allowingPrivate: Bool) -> SourceLookup {
                    var configuration = HTTPClient.Configuration()
                    configuration.outboundPolicy = OutboundPolicy(allowsPrivateTargets: allowingPrivate)
                    return SourceLookup(
                        store: store, breaker: breaker, http: HTTPClient(configuration: configuration),
                        logger: Logger(service: "crm-lookup", sink: sink), metrics: metrics)
                }

                // Allowed: the source answers, and that answer is cached.
                let allowed = try await lookup(allowingPrivate: true).lookup(
                    source: "crm", by: "email", value: "a@example.com")
                #expect(allowed.found && allowed.stale == false)
                #expect(crm.requests == 1)

                // Refused: the cached answer is served stale, and the failure is told and counted.
                let refused = lookup(allowingPrivate: false)
                let stale = try await refused.lookup(source: "crm", by: "email", value: "a@example.com")
                #expect(stale.found && stale.stale)
                // Nothing cached: a source failure (502) naming why.
                let error = await #expect(throws: CRMError.self) {
                    try await refused.lookup(source: "crm", by: "email", value: "b@example.com")
                }
                let problem = try #require(error?.problem)
                #expect(problem.status == 502)
                #expect(problem.detail?.contains("127.0.0.1 is a loopback address") == true, "\(problem)")
                #expect(crm.requests == 1, "nothing was sent to a refused address")

                let warnings = sink.lines.filter { $0.contains(#""msg":"CRM source failed""#) }
                #expect(warnings.count == 2)
                #expect(warnings.allSatisfy { $0.contains(#""level":"warning""#) && $0.contains(#""source":"crm""#) })
                #expect(warnings.allSatisfy { $0.contains("refused by the outbound policy") })
                #expect(
                    metrics.render().contains(#"concierge_crm_source_failures_total{source="crm"} 2"#),
                    "\(metrics.render())")
                // Counted by the breaker too: three more and the source is skipped.
                for _ in 0..<3 { _ = try? await refused.lookup(source: "crm", by: "email", value: "c@example.com") }
                let skipped = await #expect(throws: CRMError.self) {
                    try await refused.lookup(source: "crm", by: "email", value: "d@example.com")
                }
                #expect(skipped?.problem.status == 503, "skipped: \(String(describing: skipped))")
            }
        }
    }
}
