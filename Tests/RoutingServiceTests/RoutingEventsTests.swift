import ConciergeJSON
import ConciergeModels
import Events
import Testing

@testable import RoutingService

/// Routing's events (SPEC §9) on the real engine in process: one per real change, written with it,
/// carrying the resource as its `GET` answers it and the agent who may see it; none for a change that
/// was refused (404, 409, 422) or changed nothing.
@Suite struct RoutingEventsTests {
    /// JSON as a value, so that key order does not matter.
    static func json(_ bytes: [UInt8]) throws -> JSONValue { try JSONCoding.decode(JSONValue.self, from: bytes) }
    static func json(_ value: some Encodable) throws -> JSONValue { try json(try JSONCoding.encode(value)) }

    /// `agent.availability_changed`'s data: the agent as `GET /v1/agents/{id}` answers it, plus
    /// `previousAvailability`.
    static func availabilityChange(_ agent: Agent, previous: Availability) throws -> JSONValue {
        var object = try json(agent).objectValue ?? [:]
        object["previousAvailability"] = .string(previous.rawValue)
        return .object(object)
    }

    static func conversationID(_ event: Event) throws -> String? {
        try json(event.data).objectValue?["conversationId"]?.stringValue
    }

    @Test func creatingAnAgentIsOneEventWithTheAgentAsItsGetAnswersAndARefusedOneIsNone() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let support = try await fixture.inbox("Support")
            let a = try await fixture.agent("A", inboxes: [support])
            let events = try fixture.events()
            #expect(events.map(\.type) == ["agent.created"])
            #expect(events.map(\.audience) == [a.id])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(try engine.agent(a.id))])
            #expect(try Self.json(a) == Self.json(try engine.agent(a.id)))
            let seq = try fixture.events.lastSeq()
            // 409: the email is taken; 422: a blank name, an unknown inbox.
            await #expect(throws: RoutingError.self) { try await fixture.agent("A") }
            await #expect(throws: RoutingError.self) {
                try await engine.createAgent(NewAgent(name: " ", email: "x@example.com"))
            }
            await #expect(throws: RoutingError.self) {
                try await engine.createAgent(NewAgent(name: "X", email: "x@example.com", inboxIds: ["nope"]))
            }
            #expect(try fixture.events(after: seq).isEmpty)
        }
    }

    @Test func aPatchThatChangesSomethingIsOneUpdateAndANoOpOrRefusedPatchIsNone() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let a = try await fixture.agent("A")
            _ = try await fixture.agent("B")
            var seq = try fixture.events.lastSeq()
            let renamed = try await engine.updateAgent(a.id, AgentPatch(name: "Ada", capacity: PartialCounts(voice: 2)))
            var events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.updated"])
            #expect(events.map(\.audience) == [a.id])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(try engine.agent(a.id))])
            #expect(try Self.json(renamed) == Self.json(try engine.agent(a.id)))

            // The values it already has, or nothing at all: no change, no event.
            seq = try fixture.events.lastSeq()
            _ = try await engine.updateAgent(a.id, AgentPatch(name: "Ada", email: "A@example.com"))
            _ = try await engine.updateAgent(
                a.id, AgentPatch(capacity: PartialCounts(voice: 2), availability: .available))
            _ = try await engine.updateAgent(a.id, AgentPatch())
            // 404, 409 (another agent's email), 422 (a capacity out of range, after a valid new name).
            await #expect(throws: RoutingError.self) { try await engine.updateAgent("nobody", AgentPatch(name: "X")) }
            await #expect(throws: RoutingError.self) {
                try await engine.updateAgent(a.id, AgentPatch(email: "b@example.com"))
            }
            await #expect(throws: RoutingError.self) {
                try await engine.updateAgent(a.id, AgentPatch(name: "Y", capacity: PartialCounts(email: -1)))
            }
            #expect(try fixture.events(after: seq).isEmpty)

            // A patch of the availability is also an availability change.
            seq = try fixture.events.lastSeq()
            let away = try await engine.updateAgent(a.id, AgentPatch(availability: .away))
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.updated", "agent.availability_changed"])
            #expect(events.map(\.audience) == [a.id, a.id])
            #expect(
                try events.map { try Self.json($0.data) } == [
                    try Self.json(away), try Self.availabilityChange(away, previous: .available),
                ])
        }
    }

    @Test func becomingAvailableIsToldBeforeTheAssignmentsItCausesWithTheAgentAsItIsAfterThem() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], availability: .away)
            #expect(try await fixture.route("w-1", .messaging).routingState == .queued)
            let seq = try fixture.events.lastSeq()
            let back = try await engine.setAvailability(a.id, .available)
            let events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.availability_changed", "routing.decided"])
            #expect(events.map(\.audience) == [a.id, a.id])
            try #require(events.count == 2)
            #expect(back.load.messaging == 1)
            #expect(try Self.json(events[0].data) == Self.availabilityChange(try engine.agent(a.id), previous: .away))
            #expect(try Self.json(events[1].data) == Self.json(try fixture.decision("w-1")))
            #expect(try fixture.decision("w-1").assigneeId == a.id)

            // The availability it has already, or an unknown agent's: nothing.
            let after = try fixture.events.lastSeq()
            _ = try await engine.setAvailability(a.id, .available)
            await #expect(throws: RoutingError.self) { try await engine.setAvailability("nobody", .away) }
            #expect(try fixture.events(after: after).isEmpty)
        }
    }

    @Test func deactivatingIsToldOnceBeforeItsConversationsAreRoutedAgainAndReactivatingOnce() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            let b = try await fixture.agent("B", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            var seq = try fixture.events.lastSeq()
            let off = try await engine.deactivate(a.id)
            var events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.deactivated", "routing.decided"])
            #expect(events.map(\.audience) == [a.id, b.id])
            try #require(events.count == 2)
            #expect(!off.active && off.load.messaging == 0)
            #expect(try Self.json(events[0].data) == Self.json(try engine.agent(a.id)))
            #expect(try Self.json(events[1].data) == Self.json(try fixture.decision("m-1")))

            // Deactivating it again, or an unknown agent: nothing.
            seq = try fixture.events.lastSeq()
            _ = try await engine.deactivate(a.id)
            await #expect(throws: RoutingError.self) { try await engine.deactivate("nobody") }
            #expect(try fixture.events(after: seq).isEmpty)

            let on = try await engine.reactivate(a.id)
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.reactivated"])
            #expect(events.map(\.audience) == [a.id])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(on)])
            seq = try fixture.events.lastSeq()
            _ = try await engine.reactivate(a.id)
            await #expect(throws: RoutingError.self) { try await engine.reactivate("nobody") }
            #expect(try fixture.events(after: seq).isEmpty)
        }
    }

    @Test func eachRouteDecisionIsOneEventForItsAssigneeAndARetryOrRefusalIsNone() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            var seq = try fixture.events.lastSeq()
            let assigned = try await fixture.route("m-1", .messaging)
            let queued = try await fixture.route("m-2", .messaging)
            #expect(queued.routingState == .queued)
            let events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["routing.decided", "routing.decided"])
            // A queued conversation has no assignee: only managers and services see it.
            #expect(events.map(\.audience) == [a.id, nil])
            #expect(
                try events.map { try Self.json($0.data) } == [
                    try Self.json(try fixture.decision("m-1")), try Self.json(try fixture.decision("m-2")),
                ])
            #expect(try Self.json(events[0].data) == Self.json(assigned))

            // The same message again (a retry), a customer writing again, an unknown inbox (422): nothing.
            seq = try fixture.events.lastSeq()
            #expect(try await fixture.route("m-1", .messaging) == assigned)
            _ = try await fixture.route("m-1", .messaging, event: .message)
            await #expect(throws: RoutingError.self) { try await fixture.route("m-3", .messaging, inboxID: "nope") }
            #expect(try fixture.events(after: seq).isEmpty)
        }
    }

    @Test func releasesTransfersAndTheDrainsTheyCauseAreEachOneDecisionEvent() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            let b = try await fixture.agent("B", capacity: PartialCounts(messaging: 1))
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await fixture.route("m-2", .messaging).routingState == .queued)

            // The release frees A, and the waiting conversation is assigned to A at once.
            var seq = try fixture.events.lastSeq()
            _ = try await engine.release("m-1")
            var events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["routing.decided", "routing.decided"])
            #expect(try events.map(Self.conversationID) == ["m-1", "m-2"])
            #expect(events.map(\.audience) == [nil, a.id])
            #expect(try events.map { try Self.json($0.data) }.last == Self.json(try fixture.decision("m-2")))

            seq = try fixture.events.lastSeq()
            let transferred = try await engine.transfer("m-2", AssignRequest(agentId: b.id))
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["routing.decided"])
            #expect(events.map(\.audience) == [b.id])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(transferred)])

            // Releasing what routing does not hold, a transfer to an unknown agent (422): nothing.
            seq = try fixture.events.lastSeq()
            _ = try await engine.release("never-routed")
            _ = try await engine.release("m-1")
            await #expect(throws: RoutingError.self) {
                try await engine.transfer("m-2", AssignRequest(agentId: "nobody"))
            }
            #expect(try fixture.events(after: seq).isEmpty)
        }
    }

    @Test func membershipThatChangesAnAgentIsAnUpdateOfThatAgent() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let chat = try await fixture.inbox("Chat")
            let a = try await fixture.agent("A")
            var seq = try fixture.events.lastSeq()
            _ = try await engine.setMembers(chat.id, [a.id])
            var events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.updated"])
            #expect(events.map(\.audience) == [a.id])
            let joined = try engine.agent(a.id)
            #expect(joined.inboxIds == [chat.id] && joined.heroInboxId == chat.id)
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(joined)])

            // The same members again: nothing; leaving: an update.
            seq = try fixture.events.lastSeq()
            _ = try await engine.setMembers(chat.id, [a.id])
            #expect(try fixture.events(after: seq).isEmpty)
            _ = try await engine.setMembers(chat.id, [])
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.updated"])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(try engine.agent(a.id))])

            // An inbox created with members changes them too; a refused one (unknown member) nothing.
            seq = try fixture.events.lastSeq()
            _ = try await engine.createInbox(NewInbox(name: "Team", memberIds: [a.id]))
            await #expect(throws: RoutingError.self) {
                try await engine.createInbox(NewInbox(name: "Other", memberIds: [a.id, "nobody"]))
            }
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["agent.updated"])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(try engine.agent(a.id))])
        }
    }

    @Test func publishingAWorkflowIsOneEventWithTheVersionAsItsGetAnswersAndItsDecisionsAreToo() async throws {
        try await RoutingEngineFixture.with { fixture in
            let support = try await fixture.inbox("Support")
            let a = try await fixture.agent("A", inboxes: [support])
            let workflow =
                #"{"start": "a", "steps": [{"id": "a", "type": "assign", "to": {"inbox": "\#(support.id)"}}]}"#
            var seq = try fixture.events.lastSeq()
            try fixture.publish(workflow)
            // Refused (422: a start step that does not exist): nothing.
            #expect(throws: (any Error).self) { try fixture.publish(#"{"start": "b", "steps": []}"#) }
            var events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["workflow.published"])
            #expect(events.map(\.audience) == [nil])
            let (version, document) = try #require(try fixture.engine.workflows.active())
            #expect(version.version == 1)
            #expect(try events.map { try Self.json($0.data) } == [version.shown(document)])
            #expect(version.shown(document).objectValue?["start"] == .string("a"))

            seq = try fixture.events.lastSeq()
            let routed = try await fixture.route("w-1", .email)
            #expect(routed.assigneeId == a.id)
            events = try fixture.events(after: seq)
            #expect(events.map(\.type) == ["routing.decided"])
            #expect(events.map(\.audience) == [a.id])
            #expect(try events.map { try Self.json($0.data) } == [try Self.json(try fixture.decision("w-1"))])
        }
    }
}
