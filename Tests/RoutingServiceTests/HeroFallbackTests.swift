import ConciergeModels
import Testing

@testable import RoutingService

/// Default routing with a dedicated hero (SPEC §5 "the `dedicatedHero` target"), channel by channel,
/// on the real engine in process.
@Suite struct HeroFallbackTests {
    /// A hero agent whose hero inbox is `home` (shared with `mate`), and default inboxes for email,
    /// messaging and voice, each with its own agent. Voicemail has no default inbox.
    struct Desk {
        let fixture: RoutingEngineFixture
        let home: Inbox
        let mail: Inbox
        let chat: Inbox
        let phones: Inbox
        let hero: Agent
        let mate: Agent
        let mailAgent: Agent
        let chatAgent: Agent
        let phoneAgent: Agent

        init(_ fixture: RoutingEngineFixture) async throws {
            self.fixture = fixture
            home = try await fixture.inbox("Hero home")
            mail = try await fixture.inbox("Mail", defaultFor: [.email])
            chat = try await fixture.inbox("Chat", defaultFor: [.messaging])
            phones = try await fixture.inbox("Phones", defaultFor: [.voice])
            hero = try await fixture.agent("Hero", inboxes: [home])
            mate = try await fixture.agent("Mate", inboxes: [home])
            mailAgent = try await fixture.agent("Mailer", inboxes: [mail])
            chatAgent = try await fixture.agent("Chatter", inboxes: [chat])
            phoneAgent = try await fixture.agent("Phoner", inboxes: [phones], capacity: PartialCounts(voice: 2))
        }

        var heroTarget: DedicatedHero { DedicatedHero(type: .agent, id: hero.id) }

        func route(_ conversation: String, _ channel: Channel) async throws -> RouteResult {
            try await fixture.route(conversation, channel, hero: heroTarget)
        }

        func set(_ agent: Agent, _ availability: Availability) async throws {
            _ = try await fixture.engine.setAvailability(agent.id, availability)
        }

        func capacity(_ agent: Agent, _ capacity: PartialCounts) async throws {
            _ = try await fixture.engine.updateAgent(agent.id, AgentPatch(capacity: capacity))
        }
    }

    static func withDesk(_ body: (Desk) async throws -> Void) async throws {
        try await RoutingEngineFixture.with { fixture in try await body(try await Desk(fixture)) }
    }

    @Test func anEligibleHeroTakesEveryChannel() async throws {
        try await Self.withDesk { desk in
            #expect(desk.hero.heroInboxId == desk.home.id)
            for channel in Channel.allCases {
                let result = try await desk.route("c-\(channel.rawValue)", channel)
                #expect(result.routingState == .assigned, "\(channel)")
                #expect(result.assigneeId == desk.hero.id, "\(channel)")
                #expect(result.inboxId == desk.home.id, "\(channel)")
                #expect(
                    Array(result.trace.dropFirst()) == [
                        TraceStep(step: "dedicatedHero", outcome: "hero agent \(desk.hero.id) is eligible"),
                        TraceStep(step: "assign", outcome: "assigned to agent \(desk.hero.id)"),
                    ], "\(channel)")
            }
            #expect(
                try desk.fixture.load(desk.hero.id) == ChannelCounts(email: 1, messaging: 1, voice: 1, voicemail: 1))
        }
    }

    @Test(arguments: [Channel.email, .voicemail], [Availability.busy, .away, .offline])
    func anUnavailableHeroStillGetsEmailAndVoicemail(_ channel: Channel, _ availability: Availability) async throws {
        try await Self.withDesk { desk in
            try await desk.set(desk.hero, availability)
            let result = try await desk.route("away", channel)
            #expect(result.routingState == .assigned)
            #expect(result.assigneeId == desk.hero.id)
            #expect(result.inboxId == desk.home.id)
            #expect(
                result.outcome("dedicatedHero")
                    == "hero agent \(desk.hero.id) is \(availability.rawValue); \(channel.rawValue) goes to the hero regardless"
            )
            #expect(try desk.fixture.load(desk.hero.id)[channel] == 1)
        }
    }

    @Test(arguments: [Channel.email, .voicemail])
    func aHeroAtCapacityStillGetsEmailAndVoicemailPastIt(_ channel: Channel) async throws {
        try await Self.withDesk { desk in
            try await desk.capacity(desk.hero, PartialCounts(email: 1, voicemail: 1))
            #expect(try await desk.route("first", channel).assigneeId == desk.hero.id)
            let full = try await desk.route("second", channel)
            #expect(full.assigneeId == desk.hero.id)
            #expect(
                full.outcome("dedicatedHero")
                    == "hero agent \(desk.hero.id) is at capacity (1/1 \(channel.rawValue)); \(channel.rawValue) goes to the hero regardless"
            )
            #expect(try desk.fixture.load(desk.hero.id)[channel] == 2)
            #expect(try desk.fixture.load(desk.mailAgent.id) == ChannelCounts())
            #expect(try desk.fixture.waiting(desk.home.id) == [])
        }
    }

    @Test func anUnavailableHerosMessagingGoesToTheHeroInboxAndWaitsThere() async throws {
        try await Self.withDesk { desk in
            try await desk.set(desk.hero, .away)
            let away = try await desk.route("m-1", .messaging)
            #expect(away.assigneeId == desk.mate.id)
            #expect(away.inboxId == desk.home.id)
            #expect(
                Array(away.trace.dropFirst()) == [
                    TraceStep(
                        step: "dedicatedHero",
                        outcome: "hero agent \(desk.hero.id) is away; messaging goes to hero inbox \(desk.home.id)"),
                    TraceStep(step: "skip", outcome: "\(desk.hero.id): away"),
                    TraceStep(
                        step: "select",
                        outcome: "\(desk.mate.id) chosen by round_robin in inbox \(desk.home.id) (load 0/3 messaging)"),
                ])

            // An available hero at capacity on messaging is not eligible either.
            try await desk.set(desk.hero, .available)
            try await desk.capacity(desk.hero, PartialCounts(messaging: 0))
            let full = try await desk.route("m-2", .messaging)
            #expect(full.assigneeId == desk.mate.id)
            #expect(
                full.outcome("dedicatedHero")
                    == "hero agent \(desk.hero.id) is at capacity (0/0 messaging); messaging goes to hero inbox \(desk.home.id)"
            )

            // Nobody eligible in the hero inbox: it waits there, not in the default messaging inbox.
            try await desk.set(desk.mate, .away)
            let queued = try await desk.route("m-3", .messaging)
            #expect(queued.routingState == .queued)
            #expect(queued.assigneeId == nil)
            #expect(queued.inboxId == desk.home.id)
            #expect(try desk.fixture.waiting(desk.home.id) == ["m-3"])
            #expect(try desk.fixture.waiting(desk.chat.id) == [])
            #expect(try desk.fixture.load(desk.chatAgent.id) == ChannelCounts())
        }
    }

    @Test func aHeroWithoutAHeroInboxFallsBackToTheDefaultMessagingInbox() async throws {
        try await Self.withDesk { desk in
            let loner = try await desk.fixture.agent("Loner", availability: .away)
            #expect(loner.heroInboxId == nil)
            let result = try await desk.fixture.route(
                "m-1", .messaging, hero: DedicatedHero(type: .agent, id: loner.id))
            #expect(result.assigneeId == desk.chatAgent.id)
            #expect(result.inboxId == desk.chat.id)
            #expect(
                Array(result.trace.dropFirst().prefix(2)) == [
                    TraceStep(step: "dedicatedHero", outcome: "hero agent \(loner.id) is away and has no hero inbox"),
                    TraceStep(step: "defaultInbox", outcome: "messaging goes to its default inbox \(desk.chat.id)"),
                ])
        }
    }

    @Test func anUnavailableHerosVoiceGoesToTheDefaultVoiceInboxAndWaitsThere() async throws {
        try await Self.withDesk { desk in
            #expect(try await desk.route("v-0", .voice).assigneeId == desk.hero.id)
            // The hero now carries 1/1 voice: at capacity.
            let full = try await desk.route("v-1", .voice)
            #expect(full.assigneeId == desk.phoneAgent.id)
            #expect(full.inboxId == desk.phones.id)
            #expect(
                full.outcome("dedicatedHero")
                    == "hero agent \(desk.hero.id) is at capacity (1/1 voice); voice falls back to the default voice inbox"
            )
            _ = try await desk.fixture.engine.release("v-0")
            try await desk.set(desk.hero, .away)
            let away = try await desk.route("v-2", .voice)
            #expect(away.assigneeId == desk.phoneAgent.id)
            #expect(away.inboxId == desk.phones.id)
            // The voice inbox is full now (2/2): the call waits there, never in the hero inbox.
            let queued = try await desk.route("v-3", .voice)
            #expect(queued.routingState == .queued)
            #expect(queued.inboxId == desk.phones.id)
            #expect(try desk.fixture.waiting(desk.phones.id) == ["v-3"])
            #expect(try desk.fixture.waiting(desk.home.id) == [])
            #expect(try desk.fixture.load(desk.mate.id) == ChannelCounts())
        }
    }

    @Test func anUnavailableHerosVoiceWithNoDefaultVoiceInboxIsLeftUnassigned() async throws {
        try await RoutingEngineFixture.with { fixture in
            let home = try await fixture.inbox("Home")
            let hero = try await fixture.agent("Hero", inboxes: [home], availability: .away)
            _ = try await fixture.agent("Mate", inboxes: [home])
            let result = try await fixture.route("v-1", .voice, hero: DedicatedHero(type: .agent, id: hero.id))
            #expect(result.routingState == .none)
            #expect(result.assigneeId == nil)
            #expect(result.inboxId == nil)
            #expect(result.steps == ["event", "dedicatedHero", "unassigned"])
            #expect(try fixture.decision("v-1").routingState == .none)
        }
    }

    @Test func aHeroInboxPicksAnEligibleMemberByItsStrategyElseQueues() async throws {
        try await Self.withDesk { desk in
            let team = DedicatedHero(type: .inbox, id: desk.home.id)
            let first = try await desk.fixture.route("t-1", .email, hero: team)
            #expect(first.assigneeId == desk.hero.id)
            #expect(first.inboxId == desk.home.id)
            #expect(first.outcome("dedicatedHero") == "hero team inbox \(desk.home.id)")
            let second = try await desk.fixture.route("t-2", .messaging, hero: team)
            #expect(second.assigneeId == desk.mate.id)  // round robin moves on
            try await desk.set(desk.hero, .away)
            try await desk.set(desk.mate, .busy)
            // Email to a hero team is not "the hero regardless": nobody eligible means waiting.
            let queued = try await desk.fixture.route("t-3", .email, hero: team)
            #expect(queued.routingState == .queued)
            #expect(queued.inboxId == desk.home.id)
            #expect(try desk.fixture.waiting(desk.home.id) == ["t-3"])
            #expect(try desk.fixture.load(desk.mailAgent.id) == ChannelCounts())
        }
    }

    @Test func aHeroThatDoesNotExistFallsBackToTheChannelsDefaultInbox() async throws {
        try await Self.withDesk { desk in
            let agent = try await desk.fixture.route("g-1", .email, hero: DedicatedHero(type: .agent, id: "ghost"))
            #expect(agent.assigneeId == desk.mailAgent.id)
            #expect(agent.inboxId == desk.mail.id)
            #expect(agent.outcome("dedicatedHero") == "hero agent ghost does not exist")
            let inbox = try await desk.fixture.route(
                "g-2", .messaging, hero: DedicatedHero(type: .inbox, id: "ghost-team"))
            #expect(inbox.assigneeId == desk.chatAgent.id)
            #expect(inbox.inboxId == desk.chat.id)
            #expect(inbox.outcome("dedicatedHero") == "hero inbox ghost-team does not exist")
            #expect(inbox.outcome("defaultInbox") == "messaging goes to its default inbox \(desk.chat.id)")
        }
    }

    /// Deactivation hands a hero's contacts to its hero inbox (SPEC §5); until contacts has done so, a
    /// deactivated hero gets nothing, not even email: its conversations go to the hero inbox.
    @Test func aDeactivatedHeroGetsNoEmailItGoesToTheHeroInbox() async throws {
        try await Self.withDesk { desk in
            _ = try await desk.fixture.engine.deactivate(desk.hero.id)
            let result = try await desk.route("e-1", .email)
            #expect(result.assigneeId == desk.mate.id)
            #expect(result.inboxId == desk.home.id)
            #expect(
                result.outcome("dedicatedHero")
                    == "hero agent \(desk.hero.id) is inactive; email goes to hero inbox \(desk.home.id)")
            #expect(try desk.fixture.load(desk.hero.id) == ChannelCounts())
        }
    }

    @Test func withoutAHeroTheChannelsDefaultInboxElseNowhere() async throws {
        try await Self.withDesk { desk in
            let email = try await desk.fixture.route("n-1", .email)
            #expect(email.assigneeId == desk.mailAgent.id)
            #expect(email.inboxId == desk.mail.id)
            let voicemail = try await desk.fixture.route("n-2", .voicemail)
            #expect(voicemail.routingState == .none)
            #expect(voicemail.inboxId == nil)
            #expect(voicemail.queueId == nil)
            #expect(
                voicemail.trace.last
                    == TraceStep(step: "unassigned", outcome: "no rule applies and voicemail has no default inbox"))
            #expect(try desk.fixture.load(desk.hero.id) == ChannelCounts())
        }
    }

    @Test func theHeroGetsTheNextConversationAfterHandingOneAway() async throws {
        try await Self.withDesk { desk in
            #expect(try await desk.route("h-1", .messaging).assigneeId == desk.hero.id)
            let handed = try await desk.fixture.engine.transfer("h-1", AssignRequest(agentId: desk.chatAgent.id))
            #expect(handed.assigneeId == desk.chatAgent.id)
            #expect(
                handed.trace == [
                    TraceStep(step: "transfer", outcome: "manual transfer to agent \(desk.chatAgent.id)"),
                    TraceStep(step: "assign", outcome: "assigned to agent \(desk.chatAgent.id)"),
                ])
            #expect(try desk.fixture.load(desk.hero.id).messaging == 0)
            #expect(try desk.fixture.load(desk.chatAgent.id).messaging == 1)
            #expect(try await desk.route("h-2", .messaging).assigneeId == desk.hero.id)
            #expect(try desk.fixture.load(desk.hero.id).messaging == 1)
        }
    }
}
