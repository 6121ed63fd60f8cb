import ConciergeModels
import Testing

@testable import RoutingService

/// Which member of an inbox gets a conversation (SPEC §5 "Strategies" and eligibility), on the real
/// engine over a temporary database.
@Suite struct RoutingSelectionTests {
    @Test func roundRobinCyclesThroughTheMembersInOrder() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat])
            let b = try await fixture.agent("B", inboxes: [chat])
            let c = try await fixture.agent("C", inboxes: [chat])
            var assignees: [String?] = []
            for index in 1...6 {
                let result = try await fixture.route("m-\(index)", .messaging)
                #expect(result.routingState == .assigned)
                #expect(result.inboxId == chat.id)
                assignees.append(result.assigneeId)
            }
            #expect(assignees == [a.id, b.id, c.id, a.id, b.id, c.id])
            let fourth = try fixture.decision("m-4")
            #expect(
                fourth.trace == [
                    TraceStep(step: "event", outcome: "new messaging message"),
                    TraceStep(step: "dedicatedHero", outcome: "contact has no dedicated hero"),
                    TraceStep(step: "defaultInbox", outcome: "messaging goes to its default inbox \(chat.id)"),
                    TraceStep(
                        step: "select",
                        outcome: "\(a.id) chosen by round_robin in inbox \(chat.id) (load 1/3 messaging)"),
                ])
            #expect(try fixture.load(a.id).messaging == 2)
        }
    }

    @Test func roundRobinSkipsUnavailableAndFullMembersAndSaysWhy() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat])
            let b = try await fixture.agent("B", inboxes: [chat])
            let c = try await fixture.agent("C", inboxes: [chat], capacity: PartialCounts(messaging: 1))
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await fixture.route("m-2", .messaging).assigneeId == b.id)
            #expect(try await fixture.route("m-3", .messaging).assigneeId == c.id)  // C is now full (1/1)
            _ = try await fixture.engine.setAvailability(b.id, .away)
            #expect(try await fixture.route("m-4", .messaging).assigneeId == a.id)
            // The pointer is at A: B (away) and C (full) are passed over, and the trace says so.
            let fifth = try await fixture.route("m-5", .messaging)
            #expect(fifth.assigneeId == a.id)
            #expect(
                Array(fifth.trace.dropFirst(3)) == [
                    TraceStep(step: "skip", outcome: "\(b.id): away"),
                    TraceStep(step: "skip", outcome: "\(c.id): at capacity (1/1 messaging)"),
                    TraceStep(
                        step: "select",
                        outcome: "\(a.id) chosen by round_robin in inbox \(chat.id) (load 2/3 messaging)"),
                ])
            #expect(try fixture.load(a.id).messaging == 3)
            #expect(try fixture.load(b.id).messaging == 1)
            #expect(try fixture.load(c.id).messaging == 1)
        }
    }

    @Test func roundRobinPointerSurvivesAReloadFromTheDatabase() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat])
            let b = try await fixture.agent("B", inboxes: [chat])
            let c = try await fixture.agent("C", inboxes: [chat])
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await fixture.route("m-2", .messaging).assigneeId == b.id)
            let restarted = try fixture.reloaded()
            // Carried over from disk: the pointer (at B) and the loads.
            #expect(try fixture.load(a.id, on: restarted).messaging == 1)
            #expect(try await fixture.route("m-3", .messaging, on: restarted).assigneeId == c.id)
            #expect(try await fixture.route("m-4", .messaging, on: restarted).assigneeId == a.id)
        }
    }

    /// SPEC §5: "the eligible member with the smallest total load" — all channels counted, not only
    /// the conversation's own.
    @Test func leastBusyPicksTheSmallestTotalLoad() async throws {
        try await RoutingEngineFixture.with { fixture in
            let desk = try await fixture.inbox("Desk", defaultFor: [.messaging], strategy: .leastBusy)
            let a = try await fixture.agent("A", inboxes: [desk])
            let b = try await fixture.agent("B", inboxes: [desk])
            let c = try await fixture.agent("C", inboxes: [desk])
            // A carries two emails, B one messaging conversation, C one email.
            for (conversation, agent, channel) in [
                ("x-1", a, Channel.email), ("x-2", a, .email), ("x-3", b, .messaging), ("x-4", c, .email),
            ] {
                _ = try await fixture.engine.transfer(conversation, AssignRequest(agentId: agent.id, channel: channel))
            }
            // B and C tie at one in total: C was given its conversation last, B has been idle longer.
            let first = try await fixture.route("m-1", .messaging)
            #expect(first.assigneeId == b.id)
            #expect(first.outcome("select") == "\(b.id) chosen by least_busy in inbox \(desk.id) (load 1/3 messaging)")
            // Now C (1) is below A (2) and B (2), although A has no messaging conversation at all.
            #expect(try await fixture.route("m-2", .messaging).assigneeId == c.id)
            #expect(try fixture.load(a.id) == ChannelCounts(email: 2))
            #expect(try fixture.load(b.id) == ChannelCounts(messaging: 2))
            #expect(try fixture.load(c.id) == ChannelCounts(email: 1, messaging: 1))
        }
    }

    @Test func leastBusyTieGoesToTheMemberIdleLongest() async throws {
        try await RoutingEngineFixture.with { fixture in
            let desk = try await fixture.inbox("Desk", defaultFor: [.messaging], strategy: .leastBusy)
            let a = try await fixture.agent("A", inboxes: [desk], availability: .away)
            let b = try await fixture.agent("B", inboxes: [desk], availability: .away)
            let c = try await fixture.agent("C", inboxes: [desk], availability: .away)
            // Back at work in the order B, C, A: idle longest is B, then C, then A.
            for agent in [b, c, a] { _ = try await fixture.engine.setAvailability(agent.id, .available) }
            var assignees: [String?] = []
            for index in 1...3 { assignees.append(try await fixture.route("m-\(index)", .messaging).assigneeId) }
            #expect(assignees == [b.id, c.id, a.id])
            // All at one: closing C's conversation makes C the least busy, then idle longest among the
            // others is B (its last assignment is the oldest).
            _ = try await fixture.engine.release("m-2")
            #expect(try await fixture.route("m-4", .messaging).assigneeId == c.id)
            #expect(try await fixture.route("m-5", .messaging).assigneeId == b.id)
        }
    }

    /// `PUT /v1/agents/{id}/availability` and `PATCH /v1/agents/{id}` with `availability` both bring
    /// an agent back to work, so both make it idle from then for least busy's ties (the PATCH used to
    /// keep the agent's last assignment as its idle time, so an agent back from a long absence counted
    /// as idle longest and took the tie).
    @Test(arguments: [false, true])
    func anAgentBackAtWorkIsIdleFromThenWhicheverCallBroughtItBack(_ throughPatch: Bool) async throws {
        try await RoutingEngineFixture.with { fixture in
            let desk = try await fixture.inbox("Desk", defaultFor: [.messaging], strategy: .leastBusy)
            let a = try await fixture.agent("A", inboxes: [desk])
            let b = try await fixture.agent("B", inboxes: [desk])
            _ = try await fixture.engine.setAvailability(b.id, .away)
            #expect(try await fixture.route("m-1", .messaging).assigneeId == a.id)
            _ = try await fixture.engine.release("m-1")
            // A has been idle since that release; B comes back after it.
            if throughPatch {
                _ = try await fixture.engine.updateAgent(b.id, AgentPatch(availability: .available))
            } else {
                _ = try await fixture.engine.setAvailability(b.id, .available)
            }
            let next = try await fixture.route("m-2", .messaging)
            #expect(next.assigneeId == a.id)
        }
    }

    @Test func aRetriedRouteRequestGetsTheSameAnswerAndMovesNothing() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let a = try await fixture.agent("A", inboxes: [chat])
            let b = try await fixture.agent("B", inboxes: [chat])
            let first = try await fixture.route("m-1", .messaging)
            let retried = try await fixture.route("m-1", .messaging)
            #expect(retried == first)
            #expect(first.assigneeId == a.id)
            #expect(try fixture.load(a.id).messaging == 1)
            // The round robin pointer did not move for the retry.
            #expect(try await fixture.route("m-2", .messaging).assigneeId == b.id)
        }
    }

    @Test(arguments: [Strategy.roundRobin, .leastBusy])
    func capacityPerChannelIsNeverExceeded(_ strategy: Strategy) async throws {
        try await RoutingEngineFixture.with { fixture in
            let desk = try await fixture.inbox("Desk", defaultFor: [.email, .messaging, .voice], strategy: strategy)
            let a = try await fixture.agent(
                "A", inboxes: [desk], capacity: PartialCounts(email: 1, messaging: 2, voice: 1))
            let b = try await fixture.agent(
                "B", inboxes: [desk], capacity: PartialCounts(email: 2, messaging: 1, voice: 0))
            let capacity = [a.id: a.capacity, b.id: b.capacity]
            var states: [Channel: [RoutingState]] = [:]
            for index in 1...5 {
                for channel in [Channel.email, .messaging, .voice] {
                    let result = try await fixture.route("\(channel.rawValue)-\(index)", channel)
                    states[channel, default: []].append(result.routingState)
                    for agent in [a, b] {
                        let load = try fixture.load(agent.id)
                        #expect(
                            load[channel] <= capacity[agent.id]?[channel] ?? 0,
                            "\(agent.name) \(channel) after \(index)")
                    }
                }
            }
            #expect(states[.email] == [.assigned, .assigned, .assigned, .queued, .queued])
            #expect(states[.messaging] == [.assigned, .assigned, .assigned, .queued, .queued])
            #expect(states[.voice] == [.assigned, .queued, .queued, .queued, .queued])
            #expect(try fixture.load(a.id) == ChannelCounts(email: 1, messaging: 2, voice: 1))
            #expect(try fixture.load(b.id) == ChannelCounts(email: 2, messaging: 1, voice: 0))
        }
    }

    @Test func nonMembersAndIneligibleMembersAreNeverPicked() async throws {
        try await RoutingEngineFixture.with { fixture in
            let chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            let elsewhere = try await fixture.inbox("Elsewhere")
            let a = try await fixture.agent("A", inboxes: [chat])
            let busy = try await fixture.agent("Busy", inboxes: [chat], availability: .busy)
            let offline = try await fixture.agent("Offline", inboxes: [chat], availability: .offline)
            let gone = try await fixture.agent("Gone", inboxes: [chat])
            let outsider = try await fixture.agent("Outsider", inboxes: [elsewhere])
            _ = try await fixture.engine.deactivate(gone.id)
            for index in 1...3 { #expect(try await fixture.route("m-\(index)", .messaging).assigneeId == a.id) }
            let fourth = try await fixture.route("m-4", .messaging)
            #expect(fourth.routingState == .queued)
            #expect(fourth.assigneeId == nil)
            #expect(fourth.inboxId == chat.id)
            #expect(fourth.queueId == nil)
            #expect(
                Array(fourth.trace.dropFirst(3)) == [
                    TraceStep(step: "skip", outcome: "\(busy.id): busy"),
                    TraceStep(step: "skip", outcome: "\(offline.id): offline"),
                    TraceStep(step: "skip", outcome: "\(gone.id): inactive"),
                    TraceStep(step: "skip", outcome: "\(a.id): at capacity (3/3 messaging)"),
                    TraceStep(step: "select", outcome: "no eligible member of inbox \(chat.id) for messaging"),
                    TraceStep(step: "queue", outcome: "waiting in the implicit queue of inbox \(chat.id)"),
                ])
            for agent in [busy, offline, gone, outsider] {
                #expect(try fixture.load(agent.id) == ChannelCounts(), "\(agent.name)")
            }
            #expect(try fixture.waiting(chat.id) == ["m-4"])
        }
    }

    @Test func anInboxWithoutMembersQueuesAndSaysSo() async throws {
        try await RoutingEngineFixture.with { fixture in
            let empty = try await fixture.inbox("Empty", defaultFor: [.email])
            _ = try await fixture.agent("Outsider")
            let result = try await fixture.route("e-1", .email)
            #expect(result.routingState == .queued)
            #expect(result.outcome("select") == "inbox \(empty.id) has no members")
            #expect(try fixture.waiting(empty.id) == ["e-1"])
        }
    }
}
