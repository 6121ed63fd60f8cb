import ConciergeModels
import Testing

@testable import RoutingService

/// Queueing and draining (SPEC §5) on the real engine in process: who waits where, and who is served
/// when capacity appears. (`IntegrationTests.RoutingDrainTests` checks the same over HTTP: filter
/// this suite as `UnitTests.RoutingDrainTests`.)
@Suite struct RoutingDrainTests {
    /// What makes capacity appear for a waiting conversation.
    enum Trigger: String, CaseIterable, Sendable {
        case agentBecomesAvailable, conversationReleased, conversationTransferredAway, capacityRaised, agentJoinsInbox
        case agentReactivated
    }

    @Test func withNobodyFreeTheConversationWaitsInTheInboxsImplicitQueue() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], availability: .away)
            for id in ["w-1", "w-2"] {
                let result = try await fixture.route(id, .messaging)
                #expect(result.routingState == .queued)
                #expect(result.assigneeId == nil)
                #expect(result.inboxId == chat.id)
                #expect(result.queueId == nil)
                #expect(
                    Array(result.trace.dropFirst(3)) == [
                        TraceStep(step: "skip", outcome: "\(a.id): away"),
                        TraceStep(step: "select", outcome: "no eligible member of inbox \(chat.id) for messaging"),
                        TraceStep(step: "queue", outcome: "waiting in the implicit queue of inbox \(chat.id)"),
                    ])
            }
            #expect(try fixture.waiting(chat.id) == ["w-1", "w-2"])
            #expect(try fixture.decision("w-2").routingState == .queued)
            // A customer writing again does not move a waiting conversation.
            let again = try await fixture.route("w-1", .messaging, event: .message)
            #expect(again.routingState == .queued)
            #expect(again.outcome("unchanged") == "already queued")
            #expect(try fixture.waiting(chat.id) == ["w-1", "w-2"])
        }
    }

    @Test(arguments: Trigger.allCases)
    func capacityAppearingServesTheOldestWaitingConversationAtOnce(_ trigger: Trigger) async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let elsewhere = try await fixture.inbox("Elsewhere")
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            let b = try await fixture.agent("B", inboxes: [elsewhere], capacity: PartialCounts(messaging: 1))
            switch trigger {
            case .agentBecomesAvailable, .agentJoinsInbox: _ = try await engine.setAvailability(a.id, .away)
            case .conversationReleased, .conversationTransferredAway, .capacityRaised:
                #expect(try await fixture.route("m-0", .messaging).assigneeId == a.id)
            case .agentReactivated: _ = try await engine.deactivate(a.id)
            }
            for id in ["w-1", "w-2"] { #expect(try await fixture.route(id, .messaging).routingState == .queued) }
            #expect(try fixture.waiting(chat.id) == ["w-1", "w-2"])
            let announcedBefore = try fixture.announced().count

            var expected = a
            switch trigger {
            case .agentBecomesAvailable: _ = try await engine.setAvailability(a.id, .available)
            case .conversationReleased: _ = try await engine.release("m-0")
            case .conversationTransferredAway:
                _ = try await engine.transfer("m-0", AssignRequest(agentId: b.id))
                #expect(try fixture.load(b.id).messaging == 1)
            case .capacityRaised:
                _ = try await engine.updateAgent(a.id, AgentPatch(capacity: PartialCounts(messaging: 2)))
            case .agentJoinsInbox:
                _ = try await engine.setMembers(chat.id, [a.id, b.id])
                expected = b
            case .agentReactivated: _ = try await engine.reactivate(a.id)
            }
            // The change that made room has already served the line: no waiting, no polling.
            let drained = try fixture.decision("w-1")
            #expect(drained.routingState == .assigned)
            #expect(drained.assigneeId == expected.id)
            #expect(drained.inboxId == chat.id)
            // A joining B finds A (away) first in the member list; raised capacity finds A at 1 of 2.
            let skips = trigger == .agentJoinsInbox ? [TraceStep(step: "skip", outcome: "\(a.id): away")] : []
            let load = trigger == .capacityRaised ? "1/2" : "0/1"
            #expect(
                drained.trace == [TraceStep(step: "drain", outcome: "capacity appeared in inbox \(chat.id)")] + skips
                    + [
                        TraceStep(
                            step: "select",
                            outcome: "\(expected.id) chosen by round_robin in inbox \(chat.id) (load \(load) messaging)"
                        ),
                        TraceStep(step: "assign", outcome: "assigned to agent \(expected.id) after waiting"),
                    ])
            #expect(try fixture.decision("w-2").routingState == .queued)
            #expect(try fixture.waiting(chat.id) == ["w-2"])
            let agent = try fixture.engine.agent(expected.id)
            #expect(agent.load.messaging == agent.capacity.messaging)
            // The conversations service hears of the assignment through the outbox, once.
            let announced = try fixture.announced().dropFirst(announcedBefore)
            #expect(announced.map(\.conversationId) == ["w-1"])
            #expect(announced.first?.assigneeId == expected.id)
        }
    }

    @Test func drainServesEachChannelOldestFirstUpToItsCapacity() async throws {
        try await RoutingEngineFixture.with { fixture in
            let desk = try await fixture.inbox("Desk", defaultFor: [.email, .messaging])
            let a = try await fixture.agent(
                "A", inboxes: [desk], capacity: PartialCounts(email: 2, messaging: 1), availability: .away)
            for (id, channel) in [
                ("e-1", Channel.email), ("m-1", .messaging), ("e-2", .email), ("m-2", .messaging), ("e-3", .email),
            ] {
                #expect(try await fixture.route(id, channel).routingState == .queued, "\(id)")
            }
            #expect(try fixture.waiting(desk.id) == ["e-1", "m-1", "e-2", "m-2", "e-3"])
            _ = try await fixture.engine.setAvailability(a.id, .available)
            #expect(try fixture.waiting(desk.id) == ["m-2", "e-3"])
            #expect(try fixture.assignees(["e-1", "e-2", "m-1", "m-2", "e-3"]) == [a.id, a.id, a.id, nil, nil])
            #expect(try fixture.load(a.id) == ChannelCounts(email: 2, messaging: 1))
            #expect(try fixture.announced().map(\.conversationId) == ["e-1", "e-2", "m-1"])
        }
    }

    @Test func releasingServesTheLineOneFreedSlotAtATime() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            #expect(try await fixture.route("m-0", .messaging).assigneeId == a.id)
            for id in ["w-1", "w-2", "w-3"] { _ = try await fixture.route(id, .messaging) }
            let released = try await fixture.engine.release("m-0")
            #expect(released.routingState == .none)
            #expect(released.trace == [TraceStep(step: "release", outcome: "released from assigned")])
            #expect(try fixture.assignees(["w-1", "w-2", "w-3"]) == [a.id, nil, nil])
            _ = try await fixture.engine.release("w-1")
            #expect(try fixture.assignees(["w-2", "w-3"]) == [a.id, nil])
            // Releasing a waiting conversation frees nothing: the line just gets shorter.
            let unqueued = try await fixture.engine.release("w-3")
            #expect(unqueued.trace == [TraceStep(step: "release", outcome: "released from queued")])
            #expect(try fixture.waiting(chat.id) == [])
            #expect(try fixture.load(a.id).messaging == 1)
        }
    }

    /// Explicit queues are reached through a workflow `{"queue"}` step: the message body picks the lane.
    @Test func waitingLinesAreServedByQueuePriorityThenAge() async throws {
        try await RoutingEngineFixture.with { fixture in
            let engine = fixture.engine
            let desk = try await fixture.inbox("Desk", defaultFor: [.messaging])
            let gold = try await engine.createQueue(NewQueue(name: "Gold", inboxId: desk.id, priority: 10))
            let normal = try await engine.createQueue(NewQueue(name: "Normal", inboxId: desk.id, priority: 1))
            let other = try await engine.createQueue(NewQueue(name: "Other", inboxId: desk.id, priority: 1))
            let a = try await fixture.agent(
                "A", inboxes: [desk], capacity: PartialCounts(messaging: 3), availability: .away)
            try fixture.publish(
                """
                {"start": "pick", "steps": [
                  {"id": "pick", "type": "branch", "cases": [
                    {"if": {"field": "message.body", "op": "contains", "value": "gold"}, "goto": "gold"},
                    {"if": {"field": "message.body", "op": "contains", "value": "normal"}, "goto": "normal"},
                    {"if": {"field": "message.body", "op": "contains", "value": "other"}, "goto": "other"}],
                   "else": "plain"},
                  {"id": "gold", "type": "assign", "to": {"queue": "\(gold.id)"}},
                  {"id": "normal", "type": "assign", "to": {"queue": "\(normal.id)"}},
                  {"id": "other", "type": "assign", "to": {"queue": "\(other.id)"}},
                  {"id": "plain", "type": "assign", "to": {"inbox": "\(desk.id)"}}]}
                """)
            for (id, lane) in [
                ("o-1", "other"), ("n-1", "normal"), ("p-1", "plain"), ("g-1", "gold"), ("n-2", "normal"),
                ("g-2", "gold"),
            ] {
                let queued = try await fixture.route(id, .messaging, body: "a \(lane) question")
                #expect(queued.routingState == .queued, "\(id)")
                #expect(queued.inboxId == desk.id, "\(id)")
            }
            let g1 = try fixture.decision("g-1")
            #expect(g1.queueId == gold.id)
            #expect(g1.outcome("queue") == "waiting in queue \(gold.id)")
            #expect(try fixture.decision("p-1").queueId == nil)
            #expect(try fixture.waiting(gold.id) == ["g-1", "g-2"])
            #expect(try fixture.waiting(normal.id) == ["n-1", "n-2"])
            #expect(try fixture.waiting(other.id) == ["o-1"])
            #expect(try fixture.waiting(desk.id) == ["p-1"])

            // Room for three: both gold, then the older of the two priority-1 lanes' heads, in that order.
            _ = try await engine.setAvailability(a.id, .available)
            #expect(try fixture.announced().map(\.conversationId) == ["g-1", "g-2", "o-1"])
            #expect(try fixture.waiting(normal.id) == ["n-1", "n-2"])
            // One slot at a time: the normal lane (priority 1) beats the older implicit one (priority 0).
            _ = try await engine.release("g-1")
            #expect(try fixture.decision("n-1").assigneeId == a.id)
            _ = try await engine.release("g-2")
            #expect(try fixture.decision("n-2").assigneeId == a.id)
            #expect(try fixture.decision("p-1").routingState == .queued)
            _ = try await engine.release("o-1")
            #expect(try fixture.decision("p-1").assigneeId == a.id)
            #expect(try fixture.load(a.id).messaging == 3)
        }
    }

    @Test func freedCapacityServesTheOldestWaitingConversationAcrossTheAgentsInboxes() async throws {
        try await RoutingEngineFixture.with { fixture in
            let first = try await fixture.inbox("First")
            let second = try await fixture.inbox("Second")
            let agent = try await fixture.agent("A", inboxes: [first, second], capacity: PartialCounts(messaging: 1))
            let toFirst = DedicatedHero(type: .inbox, id: first.id)
            let toSecond = DedicatedHero(type: .inbox, id: second.id)
            #expect(try await fixture.route("busy", .messaging, hero: toFirst).assigneeId == agent.id)
            #expect(try await fixture.route("older", .messaging, hero: toSecond).routingState == .queued)
            #expect(try await fixture.route("newer", .messaging, hero: toFirst).routingState == .queued)
            _ = try await fixture.engine.release("busy")
            let older = try fixture.decision("older")
            #expect(older.assigneeId == agent.id)
            #expect(older.inboxId == second.id)
            #expect(try fixture.decision("newer").routingState == .queued)
            #expect(try fixture.waiting(first.id) == ["newer"])
        }
    }

    @Test func queuedConversationsSurviveAReloadAndDrainAfterwards() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent(
                "A", inboxes: [chat], capacity: PartialCounts(messaging: 2), availability: .away)
            var before = 0
            for id in ["w-1", "w-2", "w-3"] { before = max(before, try await fixture.route(id, .messaging).version) }
            let restarted = try fixture.reloaded()
            #expect(try fixture.waiting(chat.id, on: restarted) == ["w-1", "w-2", "w-3"])
            #expect(try restarted.decision("w-2").routingState == .queued)
            _ = try await restarted.setAvailability(a.id, .available)
            #expect(try fixture.waiting(chat.id, on: restarted) == ["w-3"])
            let first = try restarted.decision("w-1")
            #expect(first.assigneeId == a.id)
            #expect(first.version > before, "versions go on rising after a reload")
            #expect(first.steps == ["drain", "select", "assign"])
            #expect(try restarted.decision("w-2").assigneeId == a.id)
            #expect(try fixture.load(a.id, on: restarted).messaging == 2)
        }
    }

    @Test func movingAConversationToAnotherInboxServesTheLineItLeft() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let vip = try await fixture.inbox("VIP")
            let a = try await fixture.agent("A", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            let v = try await fixture.agent("V", inboxes: [vip])
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await fixture.route("w-1", .messaging).routingState == .queued)
            let moved = try await fixture.route("m-1", .messaging, event: .moved, inboxID: vip.id)
            #expect(moved.assigneeId == v.id)
            #expect(moved.inboxId == vip.id)
            #expect(try fixture.decision("w-1").assigneeId == a.id)
            #expect(try fixture.load(a.id).messaging == 1)
            #expect(try fixture.waiting(chat.id) == [])
        }
    }

    @Test func aQueuedConversationTransferredByHandLeavesItsLineForGood() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat], availability: .away)
            for id in ["w-1", "w-2"] { _ = try await fixture.route(id, .messaging) }
            let transferred = try await fixture.engine.transfer("w-1", AssignRequest(agentId: a.id))
            #expect(transferred.assigneeId == a.id)
            #expect(transferred.inboxId == chat.id)
            #expect(try fixture.waiting(chat.id) == ["w-2"])
            let restarted = try fixture.reloaded()
            #expect(try fixture.waiting(chat.id, on: restarted) == ["w-2"])
            #expect(try fixture.load(a.id, on: restarted).messaging == 1)
        }
    }

    @Test func deactivationReroutesOpenConversationsWithinTheirInbox() async throws {
        try await RoutingEngineFixture.with { fixture in
            let support = try await fixture.inbox("Support", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [support])
            let b = try await fixture.agent(
                "B", inboxes: [support], capacity: PartialCounts(messaging: 1), availability: .away)
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await fixture.route("m-2", .messaging).assigneeId == a.id)
            _ = try await fixture.engine.setAvailability(b.id, .available)
            let deactivated = try await fixture.engine.deactivate(a.id)
            #expect(deactivated.active == false)
            #expect(fixture.engine.isDeactivated(a.id))
            // Contacts is asked to hand A's hero contacts to A's hero inbox.
            #expect(
                try fixture.outbox("agent-deactivation", as: AgentHeroHandover.self) == [
                    AgentHeroHandover(agentId: a.id, heroInboxId: support.id)
                ])
            // Both rerouted conversations are announced to the conversations service.
            #expect(try fixture.announced().suffix(2).map(\.conversationId) == ["m-1", "m-2"])
            let moved = try fixture.decision("m-1")
            #expect(moved.assigneeId == b.id)
            #expect(moved.inboxId == support.id)
            #expect(
                moved.trace.first
                    == TraceStep(step: "deactivation", outcome: "agent \(a.id) was deactivated; routing again"))
            let waiting = try fixture.decision("m-2")
            #expect(waiting.routingState == .queued)
            #expect(try fixture.waiting(support.id) == ["m-2"])
            #expect(try fixture.load(a.id) == ChannelCounts())
            #expect(try fixture.load(b.id).messaging == 1)
            _ = try await fixture.engine.reactivate(a.id)
            #expect(try fixture.decision("m-2").assigneeId == a.id)
            #expect(try fixture.waiting(support.id) == [])
        }
    }
}
