import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Set-up shared by the routing suites: agents, inboxes and route requests with little ceremony.
struct RoutingKit {
    let cluster: TestCluster
    let admin: RoutingClient
    let manager: RoutingClient
    let service: RoutingClient

    init(_ cluster: TestCluster) {
        self.cluster = cluster
        admin = cluster.routing(as: .administrator)
        manager = cluster.routing(as: .teamManager)
        service = cluster.routing(as: .service)
    }

    func inbox(_ name: String, defaultFor: [Channel] = [], strategy: Strategy = .roundRobin) async throws -> Inbox {
        try await admin.createInbox(NewInbox(name: name, defaultFor: defaultFor, strategy: strategy))
    }

    /// An agent joining `inboxes` in order (membership order is creation order).
    func agent(
        _ name: String, inboxes: [String] = [], capacity: PartialCounts? = nil, availability: Availability? = nil,
        heroInbox: String? = nil
    ) async throws -> Agent {
        try await admin.createAgent(
            NewAgent(
                name: name, email: "\(name.lowercased())@example.com", availability: availability, inboxIds: inboxes,
                heroInboxId: heroInbox, capacity: capacity))
    }

    /// `POST /v1/route` as the conversations service would send it.
    func route(
        _ conversation: String, _ channel: Channel, hero: DedicatedHero? = nil, event: RouteEvent = .new,
        inboxId: String? = nil, message: String? = nil, contact: String = "contact-1", body: String = "Hello"
    ) async throws -> RouteResult {
        try await service.route(
            RouteRequest(
                conversationId: conversation, event: event, channel: channel, inboxId: inboxId,
                contact: RouteContact(id: contact, name: "Customer", dedicatedHero: hero),
                message: RouteMessage(id: message ?? "\(conversation)-\(event.rawValue)", body: body)))
    }

    func load(_ agentID: String) async throws -> ChannelCounts {
        try await admin.agent(agentID).load
    }

    func waiting(_ queueOrInbox: String) async throws -> [String] {
        try await admin.queue(queueOrInbox).waiting ?? []
    }

    /// The problem a call failed with, or `nil` when it succeeded (or failed without an answer).
    static func problem<T>(_ work: () async throws -> T) async -> Problem? {
        do {
            _ = try await work()
            return nil
        } catch let error as ServiceError {
            if case .problem(let problem) = error { return problem }
            return nil
        } catch {
            return nil
        }
    }

    static func problem(_ response: ClientResponse) -> Problem? {
        try? JSONDecoder().decode(Problem.self, from: Data(response.body))
    }

    /// Whether any trace line mentions all of `words` (case-insensitive).
    static func trace(_ result: RouteResult, mentions words: String...) -> Bool {
        result.trace.contains { line in
            let text = (line.step + " " + line.outcome).lowercased()
            return words.allSatisfy { text.contains($0.lowercased()) }
        }
    }
}

/// Agents of the routing service: defaults, reads, lists, patches, validation and roles (SPEC §5, §2).
@Suite struct RoutingAgentTests {
    @Test func newAgentGetsSpecDefaultsAndReadsBack() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let support = try await kit.inbox("Support")
            let billing = try await kit.inbox("Billing")
            let agent = try await kit.admin.createAgent(
                NewAgent(name: "Ada", email: "ada@example.com", inboxIds: [support.id, billing.id]))
            #expect(agent.name == "Ada")
            #expect(agent.email == "ada@example.com")
            #expect(agent.role == .agent)
            #expect(agent.active)
            #expect(agent.availability == .available)
            #expect(agent.capacity == ChannelCounts(email: 10, messaging: 3, voice: 1, voicemail: 10))
            #expect(agent.load == ChannelCounts(email: 0, messaging: 0, voice: 0, voicemail: 0))
            #expect(agent.inboxIds == [support.id, billing.id])
            #expect(agent.heroInboxId == support.id)
            #expect(agent.createdAt.hasSuffix("Z"))
            #expect(try await kit.admin.agent(agent.id) == agent)
            #expect(try await kit.admin.inbox(support.id).memberIds == [agent.id])
            #expect(try await kit.admin.inbox(billing.id).memberIds == [agent.id])

            let loner = try await kit.admin.createAgent(NewAgent(name: "Lone", email: "lone@example.com"))
            #expect(loner.inboxIds.isEmpty)
            #expect(loner.heroInboxId == nil)
            let manager = try await kit.admin.createAgent(
                NewAgent(
                    name: "Mia", email: "mia@example.com", role: .teamManager, availability: .away,
                    capacity: PartialCounts(voice: 2)))
            #expect(manager.role == .teamManager)
            #expect(manager.availability == .away)
            #expect(manager.capacity == ChannelCounts(email: 10, messaging: 3, voice: 2, voicemail: 10))
        }
    }

    @Test func listFiltersByInboxAndPagesNewestFirst() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let even = try await kit.inbox("Even")
            let odd = try await kit.inbox("Odd")
            var ids: [String] = []
            for i in 0..<5 {
                ids.append(try await kit.agent("Agent\(i)", inboxes: [i % 2 == 0 ? even.id : odd.id]).id)
            }
            let evens = try await kit.admin.agents(inboxId: even.id)
            #expect(evens.items.map(\.id) == [ids[4], ids[2], ids[0]])
            #expect(evens.nextCursor == nil)
            #expect(try await kit.admin.agents(inboxId: odd.id).items.map(\.id) == [ids[3], ids[1]])
            #expect(try await kit.admin.agents(inboxId: "no-such-inbox").items.isEmpty)

            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await kit.admin.agents(limit: 2, cursor: cursor)
                #expect(page.items.count <= 2)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == ids.reversed())
            #expect(pages == 3)
            let filteredPage = try await kit.admin.agents(inboxId: even.id, limit: 2)
            #expect(filteredPage.items.map(\.id) == [ids[4], ids[2]])
            let rest = try await kit.admin.agents(inboxId: even.id, limit: 2, cursor: filteredPage.nextCursor)
            #expect(rest.items.map(\.id) == [ids[0]])

            // Inboxes and queues are newest first too, paged the same way.
            let inboxes = try await kit.admin.inboxes(limit: 1)
            #expect(inboxes.items.map(\.id) == [odd.id])
            #expect(try await kit.admin.inboxes(limit: 1, cursor: inboxes.nextCursor).items.map(\.id) == [even.id])
            let low = try await kit.admin.createQueue(NewQueue(name: "Low", inboxId: even.id, priority: 1))
            let high = try await kit.admin.createQueue(NewQueue(name: "High", inboxId: even.id, priority: 9))
            let queues = try await kit.admin.queues(limit: 1)
            #expect(queues.items.map(\.id) == [high.id])
            let older = try await kit.admin.queues(limit: 1, cursor: queues.nextCursor)
            #expect(older.items.map(\.id) == [low.id])
            #expect(older.nextCursor == nil)
        }
    }

    @Test func patchChangesCapacityPerChannelMembershipAndHeroInbox() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let x = try await kit.inbox("X")
            let y = try await kit.inbox("Y")
            let z = try await kit.inbox("Z")
            let agent = try await kit.agent("Pat", inboxes: [x.id, y.id])
            #expect(agent.heroInboxId == x.id)

            let more = try await kit.admin.updateAgent(agent.id, AgentPatch(capacity: PartialCounts(messaging: 5)))
            #expect(more.capacity == ChannelCounts(email: 10, messaging: 5, voice: 1, voicemail: 10))

            let moved = try await kit.admin.updateAgent(agent.id, AgentPatch(inboxIds: [y.id, z.id]))
            #expect(moved.inboxIds == [y.id, z.id])
            #expect(try await kit.admin.inbox(x.id).memberIds.isEmpty)
            #expect(try await kit.admin.inbox(y.id).memberIds == [agent.id])
            #expect(try await kit.admin.inbox(z.id).memberIds == [agent.id])
            #expect(try await kit.admin.agents(inboxId: x.id).items.isEmpty)
            #expect(try await kit.admin.agents(inboxId: z.id).items.map(\.id) == [agent.id])

            let hero = try await kit.admin.updateAgent(agent.id, AgentPatch(heroInboxId: z.id))
            #expect(hero.heroInboxId == z.id)
            let read = try await kit.admin.agent(agent.id)
            #expect(read.capacity.messaging == 5)
            #expect(read.inboxIds == [y.id, z.id])
            #expect(read.heroInboxId == z.id)
            #expect(read.name == "Pat")
        }
    }

    @Test func invalidAgentInputIsRefusedNamingTheField() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Support")
            let ada = try await kit.agent("Ada", inboxes: [inbox.id])

            let duplicate = await RoutingKit.problem {
                try await kit.admin.createAgent(NewAgent(name: "Other Ada", email: "ada@example.com"))
            }
            #expect(duplicate?.status == 409)

            let negative = await RoutingKit.problem {
                try await kit.admin.createAgent(
                    NewAgent(name: "Neg", email: "neg@example.com", capacity: PartialCounts(messaging: -1)))
            }
            #expect(negative?.status == 422)
            #expect(negative?.errors?.first?.field == "capacity.messaging")
            let negativePatch = await RoutingKit.problem {
                try await kit.admin.updateAgent(ada.id, AgentPatch(capacity: PartialCounts(voice: -3)))
            }
            #expect(negativePatch?.status == 422)
            #expect(negativePatch?.errors?.first?.field == "capacity.voice")

            let unknownInbox = await RoutingKit.problem {
                try await kit.admin.createAgent(
                    NewAgent(name: "Lost", email: "lost@example.com", inboxIds: [inbox.id, "no-such-inbox"]))
            }
            #expect(unknownInbox?.status == 422)
            #expect(unknownInbox?.errors?.first?.field == "inboxIds[1]")
            let unknownInboxPatch = await RoutingKit.problem {
                try await kit.admin.updateAgent(ada.id, AgentPatch(inboxIds: ["no-such-inbox"]))
            }
            #expect(unknownInboxPatch?.status == 422)
            #expect(unknownInboxPatch?.errors?.first?.field == "inboxIds[0]")

            let raw = cluster.raw(.routing, token: cluster.token(.teamManager))
            let badAvailability = try await raw.raw(
                "PUT", "/v1/agents/\(ada.id)/availability", body: Array(#"{"availability":"sleeping"}"#.utf8))
            #expect(badAvailability.status == 400)
            let admin = cluster.raw(.routing, token: cluster.token(.administrator))
            let badCreate = try await admin.raw(
                "POST", "/v1/agents",
                body: Array(#"{"name":"Z","email":"z@example.com","availability":"napping"}"#.utf8))
            #expect(badCreate.status == 400)

            let unknownGet = await RoutingKit.problem { try await kit.admin.agent("no-such-agent") }
            #expect(unknownGet?.status == 404)
            let unknownPatch = await RoutingKit.problem {
                try await kit.admin.updateAgent("no-such-agent", AgentPatch(name: "N"))
            }
            #expect(unknownPatch?.status == 404)
            let unknownAvailability = await RoutingKit.problem {
                try await kit.manager.setAvailability("no-such-agent", .away)
            }
            #expect(unknownAvailability?.status == 404)

            // Nothing half-done: only Ada exists, unchanged.
            #expect(try await kit.admin.agents().items.map(\.id) == [ada.id])
            #expect(try await kit.admin.agent(ada.id) == ada)
        }
    }

    @Test func rolesDecideWhoMayChangeAgents() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let ann = try await kit.agent("Ann")
            let bob = try await kit.agent("Bob")
            #expect(try await cluster.raw(.routing).raw("GET", "/v1/agents").status == 401)
            let agentRaw = cluster.raw(.routing, token: cluster.token(.agent, sub: ann.id))
            let create = try await agentRaw.raw(
                "POST", "/v1/agents", body: Array(#"{"name":"Eve","email":"eve@example.com"}"#.utf8))
            #expect(create.status == 403)
            #expect(try await agentRaw.raw("GET", "/v1/agents").status == 200)
            let managerRaw = cluster.raw(.routing, token: cluster.token(.teamManager))
            let managerCreate = try await managerRaw.raw(
                "POST", "/v1/agents", body: Array(#"{"name":"Eve","email":"eve@example.com"}"#.utf8))
            #expect(managerCreate.status == 403)

            let asAnn = cluster.routing(as: .agent, sub: ann.id)
            #expect(try await asAnn.setAvailability(ann.id, .away).availability == .away)
            let others = await RoutingKit.problem { try await asAnn.setAvailability(bob.id, .away) }
            #expect(others?.status == 403)
            #expect(try await kit.admin.agent(bob.id).availability == .available)
            #expect(await RoutingKit.problem { try await asAnn.deactivate(bob.id) }?.status == 403)
            let ownPatch = await RoutingKit.problem {
                try await asAnn.updateAgent(ann.id, AgentPatch(capacity: PartialCounts(email: 99)))
            }
            #expect(ownPatch?.status == 403)

            #expect(try await kit.manager.setAvailability(bob.id, .busy).availability == .busy)
            #expect(try await kit.manager.setAvailability(ann.id, .offline).availability == .offline)
            #expect(try await kit.admin.agent(ann.id).availability == .offline)
            #expect(try await kit.admin.agents().items.count == 2)

            // A service token reads and makes the calls services make on each other (SPEC §2), not a
            // manager's changes: deactivation, reactivation and membership are 403 and change nothing.
            let service = cluster.routing(as: .service)
            let inbox = try await kit.inbox("Support")
            #expect(await RoutingKit.problem { try await service.deactivate(bob.id) }?.status == 403)
            #expect(await RoutingKit.problem { try await service.reactivate(bob.id) }?.status == 403)
            #expect(await RoutingKit.problem { try await service.setMembers(inbox.id, [bob.id]) }?.status == 403)
            #expect(try await kit.admin.agent(bob.id).active)
            #expect(try await kit.admin.inbox(inbox.id).memberIds.isEmpty)
            #expect(try await service.agents().items.count == 2)
        }
    }
}

/// Inboxes and queues: defaults, uniqueness of `defaultFor`, membership and waiting lists (SPEC §5).
@Suite struct RoutingInboxTests {
    @Test func inboxIsCreatedWithDefaultsStrategyAndMembers() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let ann = try await kit.agent("Ann")
            let bob = try await kit.agent("Bob")
            let inbox = try await kit.admin.createInbox(
                NewInbox(
                    name: "Support", senderName: "Acme Support", signature: "-- Acme",
                    defaultFor: [.email, .messaging],
                    strategy: .leastBusy, memberIds: [ann.id, bob.id]))
            #expect(inbox.name == "Support")
            #expect(inbox.senderName == "Acme Support")
            #expect(inbox.signature == "-- Acme")
            #expect(inbox.defaultFor == [.email, .messaging])
            #expect(inbox.strategy == .leastBusy)
            #expect(inbox.memberIds == [ann.id, bob.id])
            #expect(try await kit.admin.inbox(inbox.id) == inbox)
            let annNow = try await kit.admin.agent(ann.id)
            #expect(annNow.inboxIds == [inbox.id])
            #expect(annNow.heroInboxId == inbox.id)
            #expect(try await kit.admin.inboxes().items.map(\.id) == [inbox.id])
            // It is the default for email: an email conversation without a hero lands there.
            let routed = try await kit.route("c-1", .email)
            #expect(routed.inboxId == inbox.id)
            #expect(routed.routingState == .assigned)
            #expect([ann.id, bob.id].contains(routed.assigneeId ?? ""))
        }
    }

    @Test func aChannelHasAtMostOneDefaultInbox() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let voice = try await kit.inbox("Phones", defaultFor: [.voice])
            let clash = await RoutingKit.problem {
                try await kit.admin.createInbox(NewInbox(name: "Sales", defaultFor: [.email, .voice]))
            }
            #expect(clash?.status == 409)
            #expect(clash?.detail?.contains(voice.id) == true)
            #expect(try await kit.admin.inboxes().items.map(\.id) == [voice.id])
            let sales = try await kit.inbox("Sales", defaultFor: [.email])
            let patchClash = await RoutingKit.problem {
                try await kit.admin.updateInbox(sales.id, InboxPatch(defaultFor: [.email, .voice]))
            }
            #expect(patchClash?.status == 409)
            #expect(try await kit.admin.inbox(sales.id).defaultFor == [.email])
        }
    }

    @Test func membersAndQueuesMustPointAtExistingThings() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Support")
            let ann = try await kit.agent("Ann")
            let bob = try await kit.agent("Bob")
            let ghost = await RoutingKit.problem { try await kit.manager.setMembers(inbox.id, [ann.id, "ghost"]) }
            #expect(ghost?.status == 422)
            #expect(ghost?.errors?.first?.field == "agentIds[1]")
            #expect(try await kit.admin.inbox(inbox.id).memberIds.isEmpty)

            let set = try await kit.manager.setMembers(inbox.id, [bob.id, ann.id])
            #expect(set.memberIds == [bob.id, ann.id])
            #expect(try await kit.admin.agent(ann.id).inboxIds == [inbox.id])
            let shrunk = try await kit.manager.setMembers(inbox.id, [ann.id])
            #expect(shrunk.memberIds == [ann.id])
            #expect(try await kit.admin.agent(bob.id).inboxIds.isEmpty)
            let agentTry = await RoutingKit.problem {
                try await cluster.routing(as: .agent, sub: ann.id).setMembers(inbox.id, [ann.id, bob.id])
            }
            #expect(agentTry?.status == 403)

            let gold = try await kit.admin.createQueue(NewQueue(name: "Gold", inboxId: inbox.id, priority: 5))
            #expect(gold.priority == 5)
            #expect(gold.inboxId == inbox.id)
            #expect(try await kit.admin.queues(inboxId: inbox.id).items.map(\.id) == [gold.id])
            let read = try await kit.admin.queue(gold.id)
            #expect(read.priority == 5)
            #expect(read.waiting == [])
            let orphan = await RoutingKit.problem {
                try await kit.admin.createQueue(NewQueue(name: "Orphan", inboxId: "no-such-inbox", priority: 1))
            }
            #expect(orphan?.status == 422)
            #expect(orphan?.errors?.first?.field == "inboxId")
            #expect(try await kit.admin.queues().items.map(\.id) == [gold.id])
            #expect(await RoutingKit.problem { try await kit.admin.queue("no-such-queue") }?.status == 404)
        }
    }

    @Test func queueListsWaitingConversationsInServiceOrder() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Support", defaultFor: [.email, .messaging])
            _ = try await kit.agent("Ann", inboxes: [inbox.id], availability: .away)
            for (conversation, channel) in [
                ("c-1", Channel.email), ("c-2", .messaging), ("c-3", .email), ("c-4", .messaging),
            ] {
                let result = try await kit.route(conversation, channel)
                #expect(result.routingState == .queued)
                #expect(result.inboxId == inbox.id)
                #expect(result.assigneeId == nil)
            }
            let implicit = try await kit.admin.queue(inbox.id)
            #expect(implicit.inboxId == inbox.id)
            #expect(implicit.priority == 0)
            #expect(implicit.waiting == ["c-1", "c-2", "c-3", "c-4"])
            _ = try await kit.service.release("c-2")
            #expect(try await kit.waiting(inbox.id) == ["c-1", "c-3", "c-4"])
            let explicit = try await kit.admin.createQueue(NewQueue(name: "Gold", inboxId: inbox.id, priority: 9))
            #expect(try await kit.waiting(explicit.id) == [])
        }
    }
}

/// The two strategies of SPEC §5, including the round-robin pointer across a restart.
@Suite struct RoutingStrategyTests {
    @Test func roundRobinCyclesThroughEligibleMembersInOrder() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Chat", defaultFor: [.messaging])
            let roomy = PartialCounts(messaging: 10)
            let a = try await kit.agent("A", inboxes: [inbox.id], capacity: roomy)
            let b = try await kit.agent("B", inboxes: [inbox.id], capacity: roomy)
            let c = try await kit.agent("C", inboxes: [inbox.id], capacity: roomy)
            var assignees: [String?] = []
            for i in 1...4 { assignees.append(try await kit.route("m-\(i)", .messaging).assigneeId) }
            #expect(assignees == [a.id, b.id, c.id, a.id])

            _ = try await kit.manager.setAvailability(b.id, .away)
            #expect(try await kit.route("m-5", .messaging).assigneeId == c.id)  // b skipped
            #expect(try await kit.route("m-6", .messaging).assigneeId == a.id)
            _ = try await kit.manager.setAvailability(b.id, .available)
            // c holds m-3 and m-5: at capacity from now on.
            _ = try await kit.admin.updateAgent(c.id, AgentPatch(capacity: PartialCounts(messaging: 2)))
            #expect(try await kit.route("m-7", .messaging).assigneeId == b.id)
            let skipFull = try await kit.route("m-8", .messaging)
            #expect(skipFull.assigneeId == a.id)  // after b comes c, at capacity
            #expect(RoutingKit.trace(skipFull, mentions: c.id, "capacity"))
            #expect(try await kit.load(a.id).messaging == 4)
            #expect(try await kit.load(b.id).messaging == 2)
            #expect(try await kit.load(c.id).messaging == 2)
        }
    }

    @Test func roundRobinPointerSurvivesAHardRestart() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Chat", defaultFor: [.messaging])
            let a = try await kit.agent("A", inboxes: [inbox.id])
            let b = try await kit.agent("B", inboxes: [inbox.id])
            let c = try await kit.agent("C", inboxes: [inbox.id])
            #expect(try await kit.route("m-1", .messaging).assigneeId == a.id)
            #expect(try await kit.route("m-2", .messaging).assigneeId == b.id)
            try await cluster.service(.routing).restart(hard: true)
            #expect(try await kit.route("m-3", .messaging).assigneeId == c.id)
            #expect(try await kit.route("m-4", .messaging).assigneeId == a.id)
            // Load was rebuilt from the stored assignments too.
            #expect(try await kit.load(a.id).messaging == 2)
            #expect(try await kit.load(b.id).messaging == 1)
        }
    }

    @Test func leastBusyPicksSmallestTotalLoadThenLongestIdle() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Team", defaultFor: [.email, .messaging], strategy: .leastBusy)
            let a = try await kit.agent("A", inboxes: [inbox.id])
            let b = try await kit.agent("B", inboxes: [inbox.id])
            let c = try await kit.agent("C", inboxes: [inbox.id])
            #expect(try await kit.route("e-1", .email).assigneeId == a.id)
            #expect(try await kit.route("e-2", .email).assigneeId == b.id)
            #expect(try await kit.route("e-3", .email).assigneeId == c.id)
            // All carry one: the tie goes to the one idle longest (assigned earliest), a, then b.
            #expect(try await kit.route("e-4", .email).assigneeId == a.id)
            #expect(try await kit.route("m-5", .messaging).assigneeId == b.id)
            #expect(try await kit.route("m-6", .messaging).assigneeId == c.id)
            // a: 2 email; b: 1 email + 1 messaging; c: 1 email + 1 messaging. Free b's email:
            _ = try await kit.service.release("e-2")
            // b's total (1) is smallest though its messaging load (1) is above a's (0).
            #expect(try await kit.route("m-7", .messaging).assigneeId == b.id)
            _ = try await kit.manager.setAvailability(b.id, .away)
            _ = try await kit.service.release("e-3")  // c: total 1, a: total 2
            #expect(try await kit.route("m-8", .messaging).assigneeId == c.id)
        }
    }

    /// "Idle longest" counts from an agent's last change, not its last assignment: one that gave up its
    /// conversation earlier has been idle longer, and one just back from away has only just become idle.
    @Test func leastBusyIdleLongestCountsFromReleasesAndReturns() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Team", defaultFor: [.email], strategy: .leastBusy)
            let e = try await kit.agent("E", inboxes: [inbox.id])
            let f = try await kit.agent("F", inboxes: [inbox.id])
            let g = try await kit.agent("G", inboxes: [inbox.id])
            #expect(try await kit.route("e-1", .email).assigneeId == e.id)
            #expect(try await kit.route("e-2", .email).assigneeId == f.id)
            #expect(try await kit.route("e-3", .email).assigneeId == g.id)
            _ = try await kit.service.release("e-3")  // g idle from now
            _ = try await kit.service.release("e-1")  // e idle from later
            #expect(try await kit.route("e-4", .email).assigneeId == g.id)
            _ = try await kit.service.release("e-4")  // g idle again, now after e
            #expect(try await kit.route("e-5", .email).assigneeId == e.id)
            // e: e-5, f: e-2, g: none. e gives e-5 up, then g comes back from away: g was assigned
            // longer ago, but e has been idle longer — and that survives a hard restart.
            _ = try await kit.manager.setAvailability(g.id, .away)
            _ = try await kit.service.release("e-5")
            _ = try await kit.manager.setAvailability(g.id, .available)
            try await cluster.service(.routing).restart(hard: true)
            #expect(try await kit.route("e-6", .email).assigneeId == e.id)
            _ = try await kit.service.release("e-2")  // f: 0, idle after g's return
            #expect(try await kit.route("e-7", .email).assigneeId == g.id)
        }
    }
}

/// `POST /v1/route`, `/v1/assignments/...` and `GET /v1/routes/{id}`: capacity, idempotency, events,
/// bad input and the trace (SPEC §5).
@Suite struct RoutingRouteTests {
    @Test func fiftySimultaneousRoutesNeverExceedCapacity() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Chat", defaultFor: [.messaging])
            let a = try await kit.agent("A", inboxes: [inbox.id], capacity: PartialCounts(messaging: 2))
            let b = try await kit.agent("B", inboxes: [inbox.id], capacity: PartialCounts(messaging: 2))
            let c = try await kit.agent("C", inboxes: [inbox.id], capacity: PartialCounts(messaging: 1))
            let results = try await withThrowingTaskGroup(of: RouteResult.self) { group in
                for i in 0..<50 { group.addTask { try await kit.route("conv-\(i)", .messaging) } }
                return try await group.reduce(into: [RouteResult]()) { $0.append($1) }
            }
            #expect(results.count == 50)
            let assigned = results.filter { $0.routingState == .assigned }
            #expect(assigned.count == 5)
            #expect(results.filter { $0.routingState == .queued }.count == 45)
            #expect(Set(assigned.map(\.conversationId)).count == 5)
            var total = 0
            for agent in [a, b, c] {
                let now = try await kit.admin.agent(agent.id)
                #expect(now.load.messaging <= now.capacity.messaging)
                #expect(assigned.filter { $0.assigneeId == agent.id }.count == now.load.messaging)
                total += now.load.messaging
            }
            #expect(total == 5)
            let waiting = try await kit.waiting(inbox.id)
            #expect(waiting.count == 45)
            #expect(Set(waiting) == Set(results.filter { $0.routingState == .queued }.map(\.conversationId)))

            // A manual transfer is not routing: it may go past capacity.
            let first = try #require(waiting.first)
            let transferred = try await kit.service.assign(first, AssignRequest(agentId: c.id))
            #expect(transferred.routingState == .assigned)
            #expect(transferred.assigneeId == c.id)
            #expect(try await kit.load(c.id).messaging == 2)
            #expect(try await kit.waiting(inbox.id).count == 44)
            #expect(try await kit.admin.decision(first).assigneeId == c.id)
        }
    }

    @Test func routeIsIdempotentOnConversationAndMessage() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Mail", defaultFor: [.email])
            let a = try await kit.agent("A", inboxes: [inbox.id])
            let b = try await kit.agent("B", inboxes: [inbox.id])
            let first = try await kit.route("c-1", .email, message: "msg-1")
            let again = try await kit.route("c-1", .email, message: "msg-1")
            #expect(first.assigneeId == a.id)
            #expect(again == first)
            #expect(try await kit.load(a.id).email == 1)
            #expect(try await kit.load(b.id).email == 0)

            // Another customer message on an assigned conversation leaves it where it is.
            let message = try await kit.route("c-1", .email, event: .message, message: "msg-2")
            #expect(message.routingState == .assigned)
            #expect(message.assigneeId == a.id)
            #expect(try await kit.load(a.id).email == 1)
            #expect(try await kit.load(b.id).email == 0)
            #expect(try await kit.admin.decision("c-1").assigneeId == a.id)

            // Ten simultaneous deliveries of one request: one answer, one assignment.
            let retries = try await withThrowingTaskGroup(of: RouteResult.self) { group in
                for _ in 0..<10 { group.addTask { try await kit.route("c-2", .email, message: "msg-9") } }
                return try await group.reduce(into: [RouteResult]()) { $0.append($1) }
            }
            #expect(Set(retries.map(\.assigneeId)).count == 1)
            #expect(Set(retries.map(\.version)).count == 1)
            #expect(retries.first?.assigneeId == b.id)
            #expect(try await kit.load(b.id).email == 1)
            #expect(try await kit.load(a.id).email == 1)
        }
    }

    /// With an active workflow a retry is answered before the workflow runs (default routing checks
    /// inside its own transaction instead): the same answer, the workflow's placement made once.
    @Test func routeIsIdempotentWithAnActiveWorkflowToo() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Mail", defaultFor: [.email])
            let a = try await kit.agent("A", inboxes: [inbox.id])
            let b = try await kit.agent("B", inboxes: [inbox.id])
            let document =
                #"{"start": "tag", "steps": [{"id": "tag", "type": "tag", "tags": ["seen"], "next": "place"},"#
                + #" {"id": "place", "type": "assign", "to": {"inbox": "\#(inbox.id)"}}]}"#
            let saved = try await cluster.raw(.routing, token: cluster.token(.administrator))
                .raw("PUT", "/v1/workflow", body: Array(document.utf8))
            #expect(saved.status == 200)
            let first = try await kit.route("c-w", .email, message: "msg-1")
            let again = try await kit.route("c-w", .email, message: "msg-1")
            #expect(first.tags == ["seen"])
            #expect(first.assigneeId == a.id)
            #expect(again == first)
            #expect(try await kit.load(a.id).email == 1)
            #expect(try await kit.load(b.id).email == 0)
        }
    }

    @Test func movedAndReroutedPlaceTheConversationAgain() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let mail = try await kit.inbox("Mail", defaultFor: [.email])
            let escalations = try await kit.inbox("Escalations")
            let a = try await kit.agent("A", inboxes: [mail.id])
            let b = try await kit.agent("B", inboxes: [escalations.id])
            let b2 = try await kit.agent("B2", inboxes: [escalations.id])
            #expect(try await kit.route("c-1", .email, message: "m-1").assigneeId == a.id)

            let moved = try await kit.route("c-1", .email, event: .moved, inboxId: escalations.id, message: "m-2")
            #expect(moved.routingState == .assigned)
            #expect(moved.inboxId == escalations.id)
            #expect(moved.assigneeId == b.id)
            #expect(try await kit.load(a.id).email == 0)
            #expect(try await kit.load(b.id).email == 1)

            _ = try await kit.manager.setAvailability(b.id, .away)
            let rerouted = try await kit.route("c-1", .email, event: .rerouted, message: "m-3")
            #expect(rerouted.inboxId == escalations.id)
            #expect(rerouted.assigneeId == b2.id)
            #expect(try await kit.load(b.id).email == 0)
            #expect(try await kit.load(b2.id).email == 1)

            _ = try await kit.manager.setAvailability(a.id, .away)
            let queued = try await kit.route("c-1", .email, event: .moved, inboxId: mail.id, message: "m-4")
            #expect(queued.routingState == .queued)
            #expect(queued.inboxId == mail.id)
            #expect(queued.assigneeId == nil)
            #expect(try await kit.load(b2.id).email == 0)
            #expect(try await kit.waiting(mail.id) == ["c-1"])
            #expect(try await kit.admin.decision("c-1").routingState == .queued)
        }
    }

    @Test func badRoutingRequestsAreRefused() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Mail", defaultFor: [.email])
            let a = try await kit.agent("A", inboxes: [inbox.id])
            let gone = try await kit.agent("Gone", inboxes: [inbox.id])
            _ = try await kit.manager.deactivate(gone.id)

            let unknownInbox = await RoutingKit.problem {
                try await kit.route("c-1", .email, event: .moved, inboxId: "no-such-inbox")
            }
            #expect(unknownInbox?.status == 422)
            #expect(unknownInbox?.errors?.first?.field == "inboxId")
            let unknownOnNew = await RoutingKit.problem { try await kit.route("c-1", .email, inboxId: "no-such-inbox") }
            #expect(unknownOnNew?.status == 422)

            let service = cluster.raw(.routing, token: cluster.token(.service))
            for body in [
                #"{}"#,
                #"{"conversationId":"c-1","event":"new","channel":"email","contact":{"id":"k"}}"#,
                #"{"conversationId":"c-1","event":"new","contact":{"id":"k"},"message":{"id":"m"}}"#,
                #"{"conversationId":"c-1","event":"teleport","channel":"email","contact":{"id":"k"},"message":{"id":"m"}}"#,
                #"{"conversationId":"c-1","event":"new","channel":"fax","contact":{"id":"k"},"message":{"id":"m"}}"#,
            ] {
                let response = try await service.raw("POST", "/v1/route", body: Array(body.utf8))
                #expect(response.status == 400, "\(body)")
            }
            let missing = try await service.raw(
                "POST", "/v1/route",
                body: Array(#"{"conversationId":"c-1","event":"new","channel":"email","contact":{"id":"k"}}"#.utf8))
            #expect(RoutingKit.problem(missing)?.errors?.first?.field.hasPrefix("message") == true)

            let asAgent = await RoutingKit.problem {
                try await cluster.routing(as: .agent, sub: a.id).route(
                    RouteRequest(
                        conversationId: "c-1", event: .new, channel: .email, contact: RouteContact(id: "k"),
                        message: RouteMessage(id: "m")))
            }
            #expect(asAgent?.status == 403)
            #expect(await RoutingKit.problem { try await kit.admin.decision("never-routed") }?.status == 404)

            let ghost = await RoutingKit.problem {
                try await kit.service.assign("c-2", AssignRequest(agentId: "ghost", channel: .email))
            }
            #expect(ghost?.status == 422)
            #expect(ghost?.errors?.first?.field == "agentId")
            let inactive = await RoutingKit.problem {
                try await kit.service.assign("c-2", AssignRequest(agentId: gone.id, channel: .email))
            }
            #expect(inactive?.status == 422)
            let noChannel = await RoutingKit.problem {
                try await kit.service.assign("c-2", AssignRequest(agentId: a.id))
            }
            #expect(noChannel?.status == 422)
            #expect(noChannel?.errors?.first?.field == "channel")
            // None of that stored anything.
            #expect(await RoutingKit.problem { try await kit.admin.decision("c-1") }?.status == 404)
            #expect(await RoutingKit.problem { try await kit.admin.decision("c-2") }?.status == 404)
            #expect(try await kit.load(a.id) == ChannelCounts())
            // With the channel, a manual assignment of an unseen conversation works.
            let manual = try await kit.service.assign("c-2", AssignRequest(agentId: a.id, channel: .voice))
            #expect(manual.assigneeId == a.id)
            #expect(try await kit.load(a.id).voice == 1)
        }
    }

    @Test func queuedDecisionTraceNamesEverySkippedAgentAndWhy() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let inbox = try await kit.inbox("Chat", defaultFor: [.messaging])
            let away = try await kit.agent("Away", inboxes: [inbox.id], availability: .away)
            let full = try await kit.agent("Full", inboxes: [inbox.id], capacity: PartialCounts(messaging: 1))
            let gone = try await kit.agent("Gone", inboxes: [inbox.id])
            _ = try await kit.manager.deactivate(gone.id)
            #expect(try await kit.route("m-0", .messaging).assigneeId == full.id)

            let queued = try await kit.route("m-1", .messaging)
            #expect(queued.routingState == .queued)
            #expect(RoutingKit.trace(queued, mentions: away.id, "away"))
            #expect(RoutingKit.trace(queued, mentions: full.id, "capacity"))
            #expect(RoutingKit.trace(queued, mentions: gone.id, "inactive"))
            let stored = try await kit.admin.decision("m-1")
            #expect(stored.routingState == .queued)
            #expect(stored.trace == queued.trace)
        }
    }
}
