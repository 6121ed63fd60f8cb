import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The outbound policy in the CRM-lookup service as a real process: which source URLs it saves, and
/// what a lookup does when a saved source leads somewhere it may no longer call. (The harness runs
/// services with `CONCIERGE_ALLOW_PRIVATE_TARGETS=true`, as `concierge up` does, for the local fake
/// CRMs; these tests also run the service's default, false.)
@Suite struct CRMSourcePolicyTests {
    @Test(arguments: [
        "http://169.254.169.254/latest/meta-data/iam?email={{email}}",
        "http://[fe80::a9fe:a9fe]/customers?email={{email}}",
        "http://[::ffff:169.254.169.254]/customers?email={{email}}",
    ])
    func aSourceAtTheMetadataAddressIs422AndNotSaved(_ template: String) async throws {
        for allowPrivate in ["true", "false"] {
            try await withServices([.crmLookup], environment: ["CONCIERGE_ALLOW_PRIVATE_TARGETS": allowPrivate]) {
                cluster in
                let response = try await cluster.raw(.crmLookup, token: cluster.token(.administrator))
                    .raw("PUT", "/v1/sources/meta", body: try JSONCoding.encode(SourceConfig(urlTemplate: template)))
                #expect(response.status == 422, "\(template) → \(response.status)")
                #expect(response.header("content-type") == "application/problem+json")
                let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
                #expect(problem.errors?.first?.field == "urlTemplate")
                #expect(problem.errors?.first?.message.contains("link-local") == true, "\(problem)")
                #expect(try await cluster.crmLookup().sources().items.isEmpty, "nothing saved")
            }
        }
    }

    /// The service's default: a source on this machine is refused, naming the switch.
    @Test func withoutTheSwitchALoopbackSourceIsRefused() async throws {
        try await withServices([.crmLookup], environment: ["CONCIERGE_ALLOW_PRIVATE_TARGETS": "false"]) { cluster in
            try await withFakeCRM { fake in
                let response = try await cluster.raw(.crmLookup, token: cluster.token(.administrator))
                    .raw(
                        "PUT", "/v1/sources/acme", body: try JSONCoding.encode(SourceConfig(urlTemplate: fake.template))
                    )
                #expect(response.status == 422)
                let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
                #expect(problem.errors?.first?.field == "urlTemplate")
                let message = problem.errors?.first?.message ?? ""
                #expect(
                    message.contains("loopback") && message.contains("CONCIERGE_ALLOW_PRIVATE_TARGETS"), "\(message)")
                #expect(try await cluster.crmLookup().sources().items.isEmpty)
                #expect(fake.hits == 0)
            }
        }
    }

    /// A source saved while local targets were allowed, looked up after a restart without the switch:
    /// the connect path refuses it, and the lookup fails as a failing source does — 502 saying why,
    /// a warning in the log, the failure counted — with nothing sent to it. Its host is a name to
    /// the URL check (`2130706433`), which the resolver turns into 127.0.0.1.
    @Test func aSourceThatResolvesToARefusedAddressFailsAsASourceFailure() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                let template = "http://2130706433:\(fake.port)/customers?email={{email}}"
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: template, cacheTtlSeconds: 0))
                #expect(try await crm.lookup(email: "ada@example.com", source: "acme").found)
                #expect(fake.hits == 1)

                let first = try cluster.service(.crmLookup)
                await first.stop()
                var environment = first.environment
                environment["CONCIERGE_ALLOW_PRIVATE_TARGETS"] = "false"
                let restarted = RunningService(
                    kind: .crmLookup, port: first.port, databasePath: first.databasePath, environment: environment,
                    logPath: first.logPath)
                try await restarted.start()
                do {
                    try await Self.expectRefusedLookup(cluster, restarted, fake)
                } catch {
                    await restarted.stop()
                    throw error
                }
                await restarted.stop()
            }
        }
    }

    private static func expectRefusedLookup(
        _ cluster: TestCluster, _ restarted: RunningService, _ fake: FakeCRM
    ) async throws {
        let response = try await cluster.raw(.crmLookup, token: cluster.token(.service))
            .raw("GET", "/v1/lookup?email=bob%40example.com&source=acme")
        #expect(response.status == 502)
        let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
        #expect(problem.detail?.contains("127.0.0.1 is a loopback address") == true, "\(problem)")
        #expect(fake.hits == 1, "nothing was sent to the refused address")
        // The log is written in batches: wait for the line.
        let logged = await eventually(within: 10) {
            restarted.logRecords.contains { $0["msg"] == "CRM source failed" }
        }
        #expect(logged, "no warning in the log:\n\(restarted.logTail())")
        let warnings = restarted.logRecords.filter { $0["msg"] == "CRM source failed" }
        #expect(warnings.count == 1)
        #expect(warnings.first?["level"] == "warning")
        #expect(warnings.first?["source"] == "acme")
        #expect(warnings.first?["error"]?.contains("refused by the outbound policy") == true)
        let metrics = try await cluster.raw(.crmLookup).raw("GET", "/metrics")
        #expect(
            String(decoding: metrics.body, as: UTF8.self)
                .contains(#"concierge_crm_source_failures_total{source="acme"} 1"#))
    }
}
