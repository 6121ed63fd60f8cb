import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// What makes capacity appear for a waiting conversation (SPEC §5 "Queueing and draining").
enum DrainTrigger: String, CaseIterable, Sendable {
    case agentBecomesAvailable, conversationReleased, conversationTransferredAway, capacityRaised, agentJoinsInbox
    case agentReactivated
}

/// Queueing, draining and deactivation (SPEC §5).
@Suite struct RoutingDrainTests {
    @Test(arguments: DrainTrigger.allCases)
    func capacityAppearingServesTheOldestWaitingConversationAtOnce(_ trigger: DrainTrigger) async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let chat = try await kit.inbox("Chat", defaultFor: [.messaging])
            let elsewhere = try await kit.inbox("Elsewhere")
            let a = try await kit.agent("A", inboxes: [chat.id], capacity: PartialCounts(messaging: 1))
            let b = try await kit.agent("B", inboxes: [elsewhere.id], capacity: PartialCounts(messaging: 1))
            switch trigger {
            case .agentBecomesAvailable, .agentJoinsInbox:
                _ = try await kit.manager.setAvailability(a.id, .away)
            case .conversationReleased, .conversationTransferredAway, .capacityRaised:
                #expect(try await kit.route("m-0", .messaging).assigneeId == a.id)
            case .agentReactivated:
                _ = try await kit.manager.deactivate(a.id)
            }
            for id in ["w-1", "w-2"] {
                let waiting = try await kit.route(id, .messaging)
                #expect(waiting.routingState == .queued)
                #expect(waiting.inboxId == chat.id)
            }
            #expect(try await kit.waiting(chat.id) == ["w-1", "w-2"])

            var expected = a
            switch trigger {
            case .agentBecomesAvailable:
                _ = try await kit.manager.setAvailability(a.id, .available)
            case .conversationReleased:
                _ = try await kit.service.release("m-0")
            case .conversationTransferredAway:
                _ = try await kit.service.assign("m-0", AssignRequest(agentId: b.id))
                #expect(try await kit.load(b.id).messaging == 1)
            case .capacityRaised:
                _ = try await kit.admin.updateAgent(a.id, AgentPatch(capacity: PartialCounts(messaging: 2)))
            case .agentJoinsInbox:
                _ = try await kit.manager.setMembers(chat.id, [a.id, b.id])
                expected = b
            case .agentReactivated:
                _ = try await kit.manager.reactivate(a.id)
            }
            // No polling: the change that made room has already served the line.
            let drained = try await kit.admin.decision("w-1")
            #expect(drained.routingState == .assigned)
            #expect(drained.assigneeId == expected.id)
            #expect(drained.inboxId == chat.id)
            #expect(RoutingKit.trace(drained, mentions: "drain"), "\(drained.trace)")
            #expect(try await kit.admin.decision("w-2").routingState == .queued)
            #expect(try await kit.waiting(chat.id) == ["w-2"])
            let agent = try await kit.admin.agent(expected.id)
            #expect(agent.load.messaging == agent.capacity.messaging)
        }
    }

    @Test func drainServesEveryWaitingConversationTheNewCapacityAllows() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let desk = try await kit.inbox("Desk", defaultFor: [.email, .messaging])
            let a = try await kit.agent(
                "A", inboxes: [desk.id], capacity: PartialCounts(email: 2, messaging: 1), availability: .away)
            for (id, channel) in [
                ("e-1", Channel.email), ("m-1", .messaging), ("e-2", .email), ("m-2", .messaging), ("e-3", .email),
            ] {
                #expect(try await kit.route(id, channel).routingState == .queued)
            }
            _ = try await kit.manager.setAvailability(a.id, .available)
            // Each channel is served oldest first up to its own capacity.
            #expect(try await kit.waiting(desk.id) == ["m-2", "e-3"])
            for id in ["e-1", "e-2", "m-1"] {
                #expect(try await kit.admin.decision(id).assigneeId == a.id, "\(id)")
            }
            #expect(try await kit.load(a.id) == ChannelCounts(email: 2, messaging: 1))
        }
    }

    /// Explicit queues are reached through a workflow `{"queue"}` step: the message body picks the lane.
    @Test func waitingLinesAreServedByQueuePriorityThenAge() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let desk = try await kit.inbox("Desk", defaultFor: [.messaging])
            let gold = try await kit.admin.createQueue(NewQueue(name: "Gold", inboxId: desk.id, priority: 10))
            let normal = try await kit.admin.createQueue(NewQueue(name: "Normal", inboxId: desk.id, priority: 1))
            let other = try await kit.admin.createQueue(NewQueue(name: "Other", inboxId: desk.id, priority: 1))
            let a = try await kit.agent(
                "A", inboxes: [desk.id], capacity: PartialCounts(messaging: 3), availability: .away)
            let workflow = """
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
                """
            let saved = try await cluster.raw(.routing, token: cluster.token(.administrator))
                .raw("PUT", "/v1/workflow", body: Array(workflow.utf8))
            #expect(saved.status == 200, "\(String(decoding: saved.body, as: UTF8.self))")
            let arrivals = [
                ("o-1", "other"), ("n-1", "normal"), ("p-1", "plain"), ("g-1", "gold"), ("n-2", "normal"),
                ("g-2", "gold"),
            ]
            for (id, lane) in arrivals {
                let queued = try await kit.route(id, .messaging, body: "a \(lane) question")
                #expect(queued.routingState == .queued, "\(id)")
                #expect(queued.inboxId == desk.id, "\(id)")
            }
            #expect(try await kit.admin.decision("g-1").queueId == gold.id)
            #expect(try await kit.admin.decision("p-1").queueId == nil)
            #expect(try await kit.waiting(gold.id) == ["g-1", "g-2"])
            #expect(try await kit.waiting(normal.id) == ["n-1", "n-2"])
            #expect(try await kit.waiting(other.id) == ["o-1"])
            #expect(try await kit.waiting(desk.id) == ["p-1"])

            // Room for three: both gold, then the oldest of the two priority-1 lanes, in that order.
            _ = try await kit.manager.setAvailability(a.id, .available)
            var versions: [Int] = []
            for id in ["g-1", "g-2", "o-1"] {
                let decision = try await kit.admin.decision(id)
                #expect(decision.assigneeId == a.id, "\(id)")
                versions.append(decision.version)
            }
            #expect(versions == versions.sorted())
            #expect(try await kit.waiting(normal.id) == ["n-1", "n-2"])
            #expect(try await kit.waiting(desk.id) == ["p-1"])
            // One slot at a time: the normal lane (priority 1) beats the older implicit one (priority 0).
            _ = try await kit.service.release("g-1")
            #expect(try await kit.admin.decision("n-1").assigneeId == a.id)
            _ = try await kit.service.release("g-2")
            #expect(try await kit.admin.decision("n-2").assigneeId == a.id)
            #expect(try await kit.admin.decision("p-1").routingState == .queued)
            _ = try await kit.service.release("o-1")
            #expect(try await kit.admin.decision("p-1").assigneeId == a.id)
        }
    }

    /// An agent in two inboxes frees one slot: the older of the two waiting conversations is served,
    /// whichever inbox it waits in. Eight independent rounds, so an order that depends on chance
    /// (hashing, say) cannot pass by luck.
    @Test func freedCapacityServesTheOldestWaitingConversationAcrossTheAgentsInboxes() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            for round in 1...8 {
                let first = try await kit.inbox("First \(round)")
                let second = try await kit.inbox("Second \(round)")
                let agent = try await kit.agent(
                    "Agent\(round)", inboxes: [first.id, second.id], capacity: PartialCounts(messaging: 1))
                let toFirst = DedicatedHero(type: .inbox, id: first.id)
                let toSecond = DedicatedHero(type: .inbox, id: second.id)
                #expect(try await kit.route("busy-\(round)", .messaging, hero: toFirst).assigneeId == agent.id)
                #expect(try await kit.route("older-\(round)", .messaging, hero: toSecond).routingState == .queued)
                #expect(try await kit.route("newer-\(round)", .messaging, hero: toFirst).routingState == .queued)
                _ = try await kit.service.release("busy-\(round)")
                let older = try await kit.admin.decision("older-\(round)")
                #expect(older.assigneeId == agent.id, "round \(round): a newer conversation was served first")
                #expect(try await kit.admin.decision("newer-\(round)").routingState == .queued, "round \(round)")
            }
        }
    }

    @Test func queuedConversationsSurviveARestartAndDrainAfterwards() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let chat = try await kit.inbox("Chat", defaultFor: [.messaging])
            let a = try await kit.agent(
                "A", inboxes: [chat.id], capacity: PartialCounts(messaging: 2), availability: .away)
            var before = 0
            for id in ["w-1", "w-2", "w-3"] {
                let decision = try await kit.route(id, .messaging)
                #expect(decision.routingState == .queued)
                before = max(before, decision.version)
            }
            try await cluster.service(.routing).restart(hard: true)
            #expect(try await kit.waiting(chat.id) == ["w-1", "w-2", "w-3"])
            #expect(try await kit.admin.decision("w-2").routingState == .queued)
            _ = try await kit.manager.setAvailability(a.id, .available)
            #expect(try await kit.waiting(chat.id) == ["w-3"])
            let first = try await kit.admin.decision("w-1")
            #expect(first.assigneeId == a.id)
            #expect(first.version > before, "versions go on rising after a restart")
            #expect(RoutingKit.trace(first, mentions: "drain"))
            #expect(try await kit.admin.decision("w-2").assigneeId == a.id)
            #expect(try await kit.load(a.id).messaging == 2)
        }
    }

    @Test func deactivationReroutesOpenConversationsAndRefusesTheTokenAtOnce() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: [.messaging])
            let a = try await kit.agent("A", inboxes: [support.id])
            let b = try await kit.agent(
                "B", inboxes: [support.id], capacity: PartialCounts(messaging: 1), availability: .away)
            #expect(try await kit.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await kit.route("m-2", .messaging).assigneeId == a.id)
            _ = try await kit.manager.setAvailability(b.id, .available)
            let token = cluster.raw(.routing, token: cluster.token(.agent, sub: a.id))
            #expect(try await token.raw("GET", "/v1/agents").status == 200)

            let deactivated = try await kit.manager.deactivate(a.id)
            #expect(deactivated.active == false)
            let moved = try await kit.admin.decision("m-1")
            #expect(moved.routingState == .assigned)
            #expect(moved.assigneeId == b.id)
            #expect(moved.inboxId == support.id)
            #expect(RoutingKit.trace(moved, mentions: "deactivat"))
            let waiting = try await kit.admin.decision("m-2")
            #expect(waiting.routingState == .queued)
            #expect(waiting.inboxId == support.id)
            #expect(try await kit.waiting(support.id) == ["m-2"])
            #expect(try await kit.load(a.id) == ChannelCounts())
            #expect(try await kit.load(b.id).messaging == 1)

            #expect(try await token.raw("GET", "/v1/agents").status == 403)
            #expect(try await token.raw("GET", "/v1/routes/m-1").status == 403)
            let ownAvailability = try await token.raw(
                "PUT", "/v1/agents/\(a.id)/availability", body: Array(#"{"availability":"available"}"#.utf8))
            #expect(ownAvailability.status == 403)
            #expect(try await kit.admin.agent(a.id).active == false)

            // Reactivation serves the line at once and lets the token in again.
            let back = try await kit.manager.reactivate(a.id)
            #expect(back.active)
            let drained = try await kit.admin.decision("m-2")
            #expect(drained.assigneeId == a.id)
            #expect(RoutingKit.trace(drained, mentions: "drain"))
            #expect(try await kit.waiting(support.id) == [])
            #expect(try await token.raw("GET", "/v1/agents").status == 200)
        }
    }

    @Test func deactivationHandsHeroContactsToTheHeroInboxAndContactsRefusesTheToken() async throws {
        try await withServices([.routing, .contacts]) { cluster in
            let kit = RoutingKit(cluster)
            let home = try await kit.inbox("Home")
            let other = try await kit.inbox("Other")
            let leaving = try await kit.agent("Leaving", inboxes: [home.id, other.id])
            let staying = try await kit.agent("Staying", inboxes: [home.id])
            let contacts = cluster.contacts(as: .agent, sub: staying.id)
            let loyal = try await contacts.create(NewContact(name: "Loyal"))
            let steady = try await contacts.create(NewContact(name: "Steady"))
            _ = try await contacts.setDedicatedHero(loyal.id, DedicatedHero(type: .agent, id: leaving.id))
            _ = try await contacts.setDedicatedHero(steady.id, DedicatedHero(type: .agent, id: staying.id))
            let leavingToken = cluster.raw(.contacts, token: cluster.token(.agent, sub: leaving.id))
            #expect(try await leavingToken.raw("GET", "/v1/contacts/\(loyal.id)").status == 200)

            _ = try await kit.manager.deactivate(leaving.id)
            let handedOver = try await eventually(within: 15) {
                try await contacts.get(loyal.id).dedicatedHero == DedicatedHero(type: .inbox, id: home.id)
            }
            #expect(handedOver)
            #expect(try await contacts.get(steady.id).dedicatedHero == DedicatedHero(type: .agent, id: staying.id))
            #expect(try await contacts.search(.init(heroInboxId: home.id)).items.map(\.id) == [loyal.id])

            // The contact's next conversation follows its new hero team.
            let next = try await kit.route(
                "c-next", .messaging, hero: DedicatedHero(type: .inbox, id: home.id), contact: loyal.id)
            #expect(next.assigneeId == staying.id)

            // Contacts learns of the deactivation from routing within 60 s (cache refreshed every 15 s).
            let refused = try await eventually(within: 40) {
                try await leavingToken.raw("GET", "/v1/contacts/\(loyal.id)").status == 403
            }
            #expect(refused)
        }
    }
}
