import ConciergeModels
import Testing

@testable import ConversationsService

/// `HeroHandover`: where a contact's open conversations go when its dedicated hero is replaced.
@Suite struct HeroHandoverTests {
    static func conversation(_ id: String, channel: Channel = .email, inbox: String? = "support") -> Conversation {
        Conversation(
            id: id, contactId: "k1", channel: channel, inboxId: inbox, assigneeId: "old-agent", queueId: nil,
            routingState: .assigned,
            status: .open, subject: nil, tags: [], spam: false, createdAt: "2026-12-01T10:00:00.000Z",
            updatedAt: "2026-12-01T10:00:00.000Z", closedAt: nil, firstResponseAt: nil)
    }

    @Test func anAgentHeroTakesEveryOpenConversationDirectly() {
        let open = [Self.conversation("c1"), Self.conversation("c2", channel: .messaging)]
        let event = HeroReplaced(
            contactId: "k1", previous: DedicatedHero(type: .agent, id: "old-agent"),
            hero: DedicatedHero(type: .agent, id: "ada"))
        let calls = HeroHandover.calls(for: event, open: open, deliveryID: "d1")
        #expect(calls == [HeroHandover.Call.assign(open[0], agentID: "ada"), .assign(open[1], agentID: "ada")])
    }

    @Test func anInboxHeroHasEachRoutedWithinIt() throws {
        let open = [Self.conversation("c1"), Self.conversation("c2", channel: .voice, inbox: nil)]
        let hero = DedicatedHero(type: .inbox, id: "vip")
        let event = HeroReplaced(contactId: "k1", previous: DedicatedHero(type: .agent, id: "old-agent"), hero: hero)
        let calls = HeroHandover.calls(for: event, open: open, deliveryID: "d7")
        #expect(calls.count == 2)
        for (call, conversation) in zip(calls, open) {
            guard case .route(let request) = call else {
                Issue.record("expected a route call, got \(call)")
                continue
            }
            #expect(request.conversationId == conversation.id)
            #expect(request.event == .moved)
            #expect(request.channel == conversation.channel)
            #expect(request.inboxId == "vip")
            #expect(request.contact.id == "k1")
            #expect(request.contact.dedicatedHero == hero)
            // Stable per delivery and conversation: a redelivered replacement routes with the same message id.
            #expect(request.message.id == "hero-d7-\(conversation.id)")
        }
        #expect(HeroHandover.calls(for: event, open: open, deliveryID: "d7") == calls)
    }

    @Test func noOpenConversationsMeansNoCalls() {
        let event = HeroReplaced(
            contactId: "k1", previous: DedicatedHero(type: .inbox, id: "a"), hero: DedicatedHero(type: .inbox, id: "b"))
        #expect(HeroHandover.calls(for: event, open: [], deliveryID: nil).isEmpty)
    }
}
