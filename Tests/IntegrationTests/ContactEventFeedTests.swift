import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The contacts service's event feed as a real process (`GET /v1/events`): a held long poll is answered
/// as soon as a contact is created, and an agent sees none of contacts' events.
@Suite struct ContactEventFeedTests {
    @Test func aHeldLongPollIsAnsweredWhenAContactIsCreatedAndAgentsSeeNone() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts(as: .teamManager)
            let manager = ServiceClient(
                baseURL: cluster.url(.contacts), tokens: .fixed(cluster.token(.teamManager)), timeout: 20)
            _ = try await contacts.create(NewContact(name: "First"))
            let head = try #require(try await Self.items(manager.raw("GET", "/v1/events")).last.flatMap(Self.seq))

            let clock = ContinuousClock()
            let poll = Task {
                let response = try await manager.raw("GET", "/v1/events?after=\(head)&wait=10")
                return (response, clock.now)
            }
            // Created only once the poll is held by the service, so its answer is the wake-up, not a read.
            let held = await eventually(within: 5) {
                let metrics = try? await cluster.raw(.contacts).raw("GET", "/metrics")
                return metrics.map { String(decoding: $0.body, as: UTF8.self) }?.split(separator: "\n")
                    .contains("concierge_event_long_polls 1") ?? false
            }
            #expect(held, "the long poll is waiting")
            let created = try await contacts.create(NewContact(name: "Second", emails: ["second@example.com"]))
            let createdAt = clock.now
            let (response, answeredAt) = try await poll.value
            #expect(response.status == 200)
            #expect(answeredAt - createdAt < .seconds(2), "answered at the commit, well within the 10 s wait")
            let items = try Self.items(response)
            #expect(items.map { $0["type"]?.stringValue } == ["contact.created"])
            #expect(items.first.flatMap(Self.seq) == head + 1)
            #expect(items.first?["service"]?.stringValue == "contacts")
            #expect(items.first?["data"]?.objectValue?["id"]?.stringValue == created.id)

            // Contacts' events are for managers, administrators and services: an agent's page is empty.
            let agent = cluster.raw(.contacts, token: cluster.token(.agent, sub: "agent-1"))
            let agentPage = try await agent.raw("GET", "/v1/events?after=0")
            #expect(agentPage.status == 200)
            #expect(try Self.items(agentPage).isEmpty)
            #expect(try JSONParser.parse(agentPage.body).objectValue?["nextCursor"] == .null)
            #expect(try Self.items(await manager.raw("GET", "/v1/events?after=0")).count == 2)
        }
    }

    private static func seq(_ event: [String: JSONValue]) -> Int? {
        guard case .number(let seq)? = event["seq"] else { return nil }
        return Int(seq)
    }

    private static func items(_ response: ClientResponse) throws -> [[String: JSONValue]] {
        try JSONParser.parse(response.body).objectValue?["items"]?.arrayValue?.compactMap(\.objectValue) ?? []
    }
}
