import ConciergeClients
import ConciergeHTTPClient
import Foundation
import TestSupport
import Testing

/// `GET /metrics` of freshly started services (SPEC §2): the shared series and each service's domain
/// counters are listed before anything happened, at zero, so dashboards and alerts find them at once.
@Suite struct MetricsTests {
    @Test func freshServicesListTheirDomainCountersAtZero() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let expected: [(ServiceKind, [String])] = [
                (
                    .routing,
                    [
                        #"concierge_routing_decisions_total{outcome="assigned"} 0"#,
                        #"concierge_routing_decisions_total{outcome="queued"} 0"#,
                    ]
                ),
                (
                    .conversations,
                    [
                        #"concierge_inbound_messages_total{channel="email"} 0"#, "concierge_inbound_dropped_total 0",
                        "concierge_spam_detected_total 0",
                    ]
                ),
                (
                    .contacts,
                    ["concierge_contacts_created_total 0", #"concierge_contacts_resolved_total{created="true"} 0"#]
                ),
                (.crmLookup, [#"concierge_crm_lookups_total{source="directory"} 0"#]),
            ]
            for (kind, lines) in expected {
                let response = try await cluster.raw(kind).raw("GET", "/metrics")
                #expect(response.status == 200)
                let text = String(decoding: response.body, as: UTF8.self)
                #expect(text.contains("# TYPE http_requests_total counter"))
                for line in lines {
                    let name = String(line.prefix { $0 != "{" && $0 != " " })
                    #expect(text.contains("# TYPE \(name) counter"), "\(kind): \(name)")
                    #expect(text.split(separator: "\n").contains { $0 == line }, "\(kind): \(line)")
                }
            }
        }
    }
}
