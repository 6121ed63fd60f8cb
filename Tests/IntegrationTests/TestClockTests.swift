import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The test clock as real processes see it: a service started with `CONCIERGE_TEST_CLOCK=true` moves its
/// wall clock forward on request — what it stamps follows — and keeps it ahead across a restart; without
/// the setting the route does not exist.
@Suite struct TestClockTests {
    @Test func movingTheClockMovesWhatTheServiceStampsAndARestartKeepsIt() async throws {
        try await withServices([.contacts], environment: ["CONCIERGE_TEST_CLOCK": "true"]) { cluster in
            let admin = cluster.raw(.contacts, token: cluster.token(.administrator))
            let before = try Self.now(try await admin.raw("GET", "/v1/admin/clock"))
            let twoDays = 2 * 86_400.0
            try await cluster.advanceClock(by: twoDays)
            let after = try Self.now(try await admin.raw("GET", "/v1/admin/clock"))
            #expect(after.timeIntervalSince(before) >= twoDays)
            #expect(after.timeIntervalSince(before) < twoDays + 60)

            let contact = try await cluster.contacts().create(NewContact(name: "Stamped"))
            let createdAt = try #require(Timestamp.parse(contact.createdAt))
            #expect(createdAt.timeIntervalSince(Date()) > twoDays - 60, "stamped on the moved clock")

            try await cluster.service(.contacts).restart(hard: true)
            let restarted = try Self.now(try await admin.raw("GET", "/v1/admin/clock"))
            #expect(restarted.timeIntervalSince(Date()) > twoDays - 60, "the restarted process is as far ahead")
        }
    }

    @Test func theClockMovesOnlyForwardAndOnlyWhenEnabled() async throws {
        try await withServices([.contacts], environment: ["CONCIERGE_TEST_CLOCK": "true"]) { cluster in
            let admin = cluster.raw(.contacts, token: cluster.token(.administrator))
            let back = try await admin.raw(
                "POST", "/v1/admin/clock", body: Array(#"{"advanceSeconds":-5}"#.utf8),
                headers: [("Content-Type", "application/json")])
            #expect(back.status == 422)
            let agent = cluster.raw(.contacts, token: cluster.token(.agent))
            let refused = try await agent.raw(
                "POST", "/v1/admin/clock", body: Array(#"{"advanceSeconds":5}"#.utf8),
                headers: [("Content-Type", "application/json")])
            #expect(refused.status == 403)
        }
        try await withServices([.contacts]) { cluster in
            let admin = cluster.raw(.contacts, token: cluster.token(.administrator))
            let missing = try await admin.raw("GET", "/v1/admin/clock")
            #expect(missing.status == 404)
        }
    }

    /// Every service runs its timer scheduler from start, over its own `timers` table: the first pass
    /// (at start, before readiness matters) finds the table and fails nothing.
    @Test func everyServiceRunsItsTimersFromStart() async throws {
        try await withServices(ServiceKind.allCases) { cluster in
            for kind in ServiceKind.allCases {
                let metrics = try await cluster.raw(kind).raw("GET", "/metrics")
                let text = String(decoding: metrics.body, as: UTF8.self)
                #expect(text.contains("# TYPE concierge_timers_fired_total counter"), "\(kind)")
                let passed = await eventually(within: 5) {
                    (try? cluster.service(kind).logTail(20_000).contains("timer pass failed")) == false
                }
                #expect(passed, "\(kind): \((try? cluster.service(kind).logTail(2000)) ?? "")")
            }
        }
    }

    static func now(_ response: ClientResponse) throws -> Date {
        #expect(response.status == 200)
        let value = try JSONParser.parse(response.body)
        return try #require(value.objectValue?["now"]?.stringValue.flatMap(Timestamp.parse))
    }
}
