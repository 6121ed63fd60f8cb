import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// https CRM sources (SPEC §7) against the real crm-lookup executable: a throwaway CA made at test
/// time, trusted through `CONCIERGE_CA_FILE`, and libssl test servers on loopback.
@Suite struct CRMLookupTLSTests {
    @Test func httpsSourceAnswersThroughTLSAndAnUntrustedOneIs502() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let authority = try TestCertificate.authority("Concierge Test CA")
        let caFile = folder.appendingPathComponent("ca.pem").path
        try authority.writePEM(to: caFile)
        let record = #"{"customerType":"VIP","loyaltyStatus":"gold","crmId":"C-7"}"#
        let trusted = try TLSTestServer(certificate: authority.issue(for: ["127.0.0.1", "localhost"])) { _ in
            (200, record)
        }
        defer { trusted.stop() }
        let stranger = try TestCertificate.authority("Someone Else's CA")
        let untrusted = try TLSTestServer(certificate: stranger.issue(for: ["127.0.0.1", "localhost"])) { _ in
            (200, record)
        }
        defer { untrusted.stop() }

        try await withServices([.crmLookup], environment: ["CONCIERGE_CA_FILE": caFile]) { cluster in
            let crm = cluster.crmLookup()
            _ = try await crm.putSource(
                "secure",
                SourceConfig(
                    urlTemplate: "https://localhost:\(trusted.port)/customers?email={{email}}", timeoutMs: 5000))
            let fresh = try await crm.lookup(email: "Ada@Example.com", source: "secure")
            #expect(fresh.found)
            #expect(fresh.source == "secure")
            #expect(fresh.stale == false)
            #expect(
                fresh.data
                    == .object([
                        "customerType": .string("VIP"), "loyaltyStatus": .string("gold"), "crmId": .string("C-7"),
                    ]))
            #expect(trusted.targets == ["/customers?email=ada%40example.com"], "the request travelled over TLS")
            #expect(trusted.handshakeCount == 1)

            // Another key: a second request on the same pooled TLS connection.
            let other = try await crm.lookup(email: "bob@example.com", source: "secure")
            #expect(other.found)
            #expect(trusted.targets.count == 2)
            #expect(trusted.acceptedCount == 1)

            _ = try await crm.putSource(
                "stranger",
                SourceConfig(
                    urlTemplate: "https://127.0.0.1:\(untrusted.port)/customers?email={{email}}", timeoutMs: 5000))
            let refused = try await cluster.raw(.crmLookup, token: cluster.token(.service))
                .raw("GET", "/v1/lookup?email=ada%40example.com&source=stranger")
            #expect(refused.status == 502)
            #expect(refused.header("content-type") == "application/problem+json")
            let problem = try JSONDecoder().decode(Problem.self, from: Data(refused.body))
            #expect(problem.detail?.contains("certificate verify failed") == true, "\(problem.detail ?? "")")
            #expect(untrusted.targets.isEmpty, "nothing was sent to a server that failed verification")

            // Still serving, and the trusted source still answers from a fresh lookup.
            #expect(try cluster.service(.crmLookup).isRunning)
            let after = try await crm.lookup(email: "carol@example.com", source: "secure")
            #expect(after.found)
            #expect(trusted.targets.count == 3)
        }
    }
}
