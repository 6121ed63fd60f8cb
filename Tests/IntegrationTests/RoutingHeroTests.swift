import ConciergeClients
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Dedicated hero routing without a workflow (SPEC §5 "the `dedicatedHero` target"), and the
/// contacts service checking heroes with routing (SPEC §3).
@Suite struct RoutingHeroTests {
    /// A desk with a hero agent whose hero inbox is `home` (shared with `mate`), and default inboxes
    /// for email, messaging and voice, each with its own agent. Voicemail has no default inbox.
    struct Desk {
        let kit: RoutingKit
        let home: Inbox
        let mail: Inbox
        let chat: Inbox
        let phones: Inbox
        let hero: Agent
        let mate: Agent
        let mailAgent: Agent
        let chatAgent: Agent
        let phoneAgent: Agent

        init(_ cluster: TestCluster) async throws {
            kit = RoutingKit(cluster)
            home = try await kit.inbox("Hero home")
            mail = try await kit.inbox("Mail", defaultFor: [.email])
            chat = try await kit.inbox("Chat", defaultFor: [.messaging])
            phones = try await kit.inbox("Phones", defaultFor: [.voice])
            hero = try await kit.agent("Hero", inboxes: [home.id])
            mate = try await kit.agent("Mate", inboxes: [home.id])
            mailAgent = try await kit.agent("Mailer", inboxes: [mail.id])
            chatAgent = try await kit.agent("Chatter", inboxes: [chat.id])
            phoneAgent = try await kit.agent("Phoner", inboxes: [phones.id], capacity: PartialCounts(voice: 2))
        }

        var heroTarget: DedicatedHero { DedicatedHero(type: .agent, id: hero.id) }

        func route(_ conversation: String, _ channel: Channel) async throws -> RouteResult {
            try await kit.route(conversation, channel, hero: heroTarget)
        }

        func set(_ agent: Agent, _ availability: Availability) async throws {
            _ = try await kit.manager.setAvailability(agent.id, availability)
        }
    }

    @Test func eligibleHeroAgentTakesEveryChannel() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            #expect(desk.hero.heroInboxId == desk.home.id)
            for channel in Channel.allCases {
                let result = try await desk.route("c-\(channel.rawValue)", channel)
                #expect(result.routingState == .assigned, "\(channel)")
                #expect(result.assigneeId == desk.hero.id, "\(channel)")
            }
            #expect(
                try await desk.kit.load(desk.hero.id) == ChannelCounts(email: 1, messaging: 1, voice: 1, voicemail: 1))
        }
    }

    @Test func unavailableHeroStillGetsEmailAndVoicemail() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            try await desk.set(desk.hero, .away)
            for channel in [Channel.email, .voicemail] {
                let result = try await desk.route("away-\(channel.rawValue)", channel)
                #expect(result.routingState == .assigned, "\(channel)")
                #expect(result.assigneeId == desk.hero.id, "\(channel)")
            }
            // At capacity counts no more than away: email still goes to the hero, past capacity.
            try await desk.set(desk.hero, .available)
            _ = try await desk.kit.admin.updateAgent(
                desk.hero.id, AgentPatch(capacity: PartialCounts(email: 1, voicemail: 1)))
            #expect(try await desk.route("full-email", .email).assigneeId == desk.hero.id)
            #expect(try await desk.route("full-voicemail", .voicemail).assigneeId == desk.hero.id)
            #expect(try await desk.kit.load(desk.hero.id).email == 2)
            #expect(try await desk.kit.load(desk.hero.id).voicemail == 2)
            #expect(try await desk.kit.load(desk.mailAgent.id).email == 0)
        }
    }

    @Test func unavailableHeroMessagingGoesToTheHeroInbox() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            try await desk.set(desk.hero, .away)
            let away = try await desk.route("m-1", .messaging)
            #expect(away.routingState == .assigned)
            #expect(away.assigneeId == desk.mate.id)
            #expect(away.inboxId == desk.home.id)

            // An available hero at capacity on messaging is not eligible either.
            try await desk.set(desk.hero, .available)
            _ = try await desk.kit.admin.updateAgent(desk.hero.id, AgentPatch(capacity: PartialCounts(messaging: 0)))
            let full = try await desk.route("m-2", .messaging)
            #expect(full.assigneeId == desk.mate.id)
            #expect(full.inboxId == desk.home.id)

            // Nobody eligible in the hero inbox: it waits there, not in the default messaging inbox.
            try await desk.set(desk.mate, .away)
            let queued = try await desk.route("m-3", .messaging)
            #expect(queued.routingState == .queued)
            #expect(queued.assigneeId == nil)
            #expect(queued.inboxId == desk.home.id)
            #expect(try await desk.kit.waiting(desk.home.id) == ["m-3"])
            #expect(try await desk.kit.waiting(desk.chat.id) == [])
            #expect(try await desk.kit.load(desk.chatAgent.id).messaging == 0)
        }
    }

    @Test func unavailableHeroVoiceGoesToTheDefaultVoiceInbox() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            #expect(try await desk.route("v-0", .voice).assigneeId == desk.hero.id)
            // The hero now carries 1/1 voice: at capacity.
            let full = try await desk.route("v-1", .voice)
            #expect(full.assigneeId == desk.phoneAgent.id)
            #expect(full.inboxId == desk.phones.id)
            _ = try await desk.kit.service.release("v-0")
            try await desk.set(desk.hero, .away)
            let away = try await desk.route("v-2", .voice)
            #expect(away.assigneeId == desk.phoneAgent.id)
            #expect(away.inboxId == desk.phones.id)
            // The voice inbox is full now (2/2): the call waits there, never in the hero inbox.
            let queued = try await desk.route("v-3", .voice)
            #expect(queued.routingState == .queued)
            #expect(queued.inboxId == desk.phones.id)
            #expect(try await desk.kit.waiting(desk.phones.id) == ["v-3"])
            #expect(try await desk.kit.waiting(desk.home.id) == [])
            #expect(try await desk.kit.load(desk.mate.id).voice == 0)
        }
    }

    @Test func heroInboxPicksAnEligibleMemberByStrategyElseQueues() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            let team = DedicatedHero(type: .inbox, id: desk.home.id)
            let first = try await desk.kit.route("t-1", .email, hero: team)
            #expect(first.assigneeId == desk.hero.id)
            #expect(first.inboxId == desk.home.id)
            let second = try await desk.kit.route("t-2", .messaging, hero: team)
            #expect(second.assigneeId == desk.mate.id)  // round robin moves on
            #expect(second.inboxId == desk.home.id)
            try await desk.set(desk.hero, .away)
            try await desk.set(desk.mate, .busy)
            let queued = try await desk.kit.route("t-3", .email, hero: team)
            #expect(queued.routingState == .queued)
            #expect(queued.inboxId == desk.home.id)
            #expect(try await desk.kit.waiting(desk.home.id) == ["t-3"])
            #expect(try await desk.kit.load(desk.mailAgent.id).email == 0)
        }
    }

    @Test func withoutHeroTheChannelsDefaultInboxElseNowhere() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            let email = try await desk.kit.route("n-1", .email)
            #expect(email.assigneeId == desk.mailAgent.id)
            #expect(email.inboxId == desk.mail.id)
            let voice = try await desk.kit.route("n-2", .voice)
            #expect(voice.assigneeId == desk.phoneAgent.id)
            #expect(voice.inboxId == desk.phones.id)
            let voicemail = try await desk.kit.route("n-3", .voicemail)
            #expect(voicemail.routingState == .none)
            #expect(voicemail.assigneeId == nil)
            #expect(voicemail.inboxId == nil)
            #expect(voicemail.queueId == nil)
            let stored = try await desk.kit.admin.decision("n-3")
            #expect(stored.routingState == .none)
            #expect(try await desk.kit.load(desk.hero.id) == ChannelCounts())
        }
    }

    @Test func heroGetsTheNextConversationAfterATransferAway() async throws {
        try await withServices([.routing]) { cluster in
            let desk = try await Desk(cluster)
            #expect(try await desk.route("h-1", .messaging).assigneeId == desk.hero.id)
            let handed = try await desk.kit.service.assign("h-1", AssignRequest(agentId: desk.chatAgent.id))
            #expect(handed.assigneeId == desk.chatAgent.id)
            #expect(try await desk.kit.load(desk.hero.id).messaging == 0)
            #expect(try await desk.kit.load(desk.chatAgent.id).messaging == 1)
            let released = try await desk.kit.service.release("h-1")
            #expect(released.routingState == .none)
            #expect(try await desk.kit.load(desk.chatAgent.id).messaging == 0)
            let next = try await desk.route("h-2", .messaging)
            #expect(next.assigneeId == desk.hero.id)
            #expect(try await desk.kit.load(desk.hero.id).messaging == 1)
        }
    }

    @Test func contactsChecksTheHeroWithRouting() async throws {
        try await withServices([.routing, .contacts]) { cluster in
            let kit = RoutingKit(cluster)
            let team = try await kit.inbox("Team")
            let active = try await kit.agent("Active", inboxes: [team.id])
            let gone = try await kit.agent("Gone", inboxes: [team.id])
            _ = try await kit.manager.deactivate(gone.id)
            let contacts = cluster.contacts(as: .agent, sub: active.id)
            let contact = try await contacts.create(NewContact(name: "Loyal"))

            let toAgent = try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: active.id))
            #expect(toAgent.dedicatedHero == DedicatedHero(type: .agent, id: active.id))
            let unknown = await RoutingKit.problem {
                try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: "no-such-agent"))
            }
            #expect(unknown?.status == 422)
            let inactive = await RoutingKit.problem {
                try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: gone.id))
            }
            #expect(inactive?.status == 422)
            let unknownInbox = await RoutingKit.problem {
                try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .inbox, id: "no-such-inbox"))
            }
            #expect(unknownInbox?.status == 422)
            #expect(try await contacts.get(contact.id).dedicatedHero == DedicatedHero(type: .agent, id: active.id))
            let toInbox = try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .inbox, id: team.id))
            #expect(toInbox.dedicatedHero == DedicatedHero(type: .inbox, id: team.id))

            let routing = try cluster.service(.routing)
            await routing.stop()
            let down = await RoutingKit.problem {
                try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: active.id))
            }
            #expect(down?.status == 503)
            #expect(try await contacts.get(contact.id).dedicatedHero == DedicatedHero(type: .inbox, id: team.id))
        }
    }
}
