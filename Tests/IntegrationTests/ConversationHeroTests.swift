import ConciergeClients
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Dedicated hero effects end to end: contacts, routing and conversations together (SPEC §3, §5).
@Suite struct ConversationHeroTests {
    /// Support (default for every channel) with Ada; Heroes with Hank, the hero, and Helen.
    struct HeroDesk {
        let support: Inbox
        let heroes: Inbox
        let ada: Agent
        let hank: Agent
        let helen: Agent
    }

    static func heroDesk(_ kit: ConversationKit, helenCapacity: PartialCounts? = nil) async throws -> HeroDesk {
        let (support, ada) = try await kit.desk()
        let heroes = try await kit.inbox("Heroes")
        let hank = try await kit.agent("Hank", inboxes: [heroes.id])
        let helen = try await kit.agent("Helen", inboxes: [heroes.id], capacity: helenCapacity)
        return HeroDesk(support: support, heroes: heroes, ada: ada, hank: hank, helen: helen)
    }

    /// A contact reachable by email and by phone (messaging, voice).
    static func customer(_ kit: ConversationKit, _ name: String, phone: String) async throws -> Contact {
        try await kit.contacts.create(
            NewContact(name: name, emails: ["\(name.lowercased())@example.com"], phones: [phone]))
    }

    @Test func aFirstHeroLeavesOpenConversationsAndTakesNewOnes() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let desk = try await Self.heroDesk(kit)
            let contact = try await Self.customer(kit, "Olga", phone: "+4520202020")
            let before = try await kit.routed(try await kit.inbound(.email, from: "olga@example.com", expecting: 201))
            let beforeID = before.id
            #expect(before.contactId == contact.id)
            #expect(before.assigneeId == desk.ada.id)

            _ = try await cluster.contacts(as: .agent).setDedicatedHero(
                contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            let chat = try await kit.routed(
                try await kit.inbound(.messaging, from: "+4520202020", body: "chat", expecting: 201))
            #expect(chat.assigneeId == desk.hank.id)
            #expect(chat.routingState == .assigned)
            // Still Ada's, after the hero's conversation was routed and the outboxes had time to talk.
            let untouched = try await kit.conversations.conversation(beforeID)
            #expect(untouched.assigneeId == desk.ada.id)
            #expect(untouched.inboxId == desk.support.id)
            #expect(try await kit.load(desk.ada.id).email == 1)
            #expect(try await kit.load(desk.hank.id).messaging == 1)
            // The email thread still continues with Ada.
            let threaded = try await kit.routed(
                try await kit.inbound(.email, from: "olga@example.com", body: "more", expecting: 200))
            #expect(threaded.id == beforeID)
            #expect(threaded.assigneeId == desk.ada.id)
        }
    }

    @Test func replacingTheHeroReassignsOpenConversationsAndUnassigningChangesNothing() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let desk = try await Self.heroDesk(kit)
            let hera = try await kit.agent("Hera", inboxes: [desk.heroes.id])
            let contact = try await Self.customer(kit, "Pia", phone: "+4521212121")
            let old = try #require(
                try await kit.inbound(.email, from: "pia@example.com", body: "old", expecting: 201).conversationId)
            _ = try await kit.conversations.close(old)

            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            let mail = try await kit.routed(
                try await kit.inbound(.email, from: "pia@example.com", body: "new mail", expecting: 201))
            let chat = try await kit.routed(
                try await kit.inbound(.messaging, from: "+4521212121", body: "new chat", expecting: 201))
            let mailID = mail.id
            let chatID = chat.id
            #expect(mail.assigneeId == desk.hank.id)
            #expect(chat.assigneeId == desk.hank.id)

            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: hera.id))
            let mailNow = try await kit.conversation(mailID, within: 20) { $0.assigneeId == hera.id }
            let chatNow = try await kit.conversation(chatID, within: 20) { $0.assigneeId == hera.id }
            #expect(mailNow.assigneeId == hera.id)
            #expect(chatNow.assigneeId == hera.id)
            #expect(mailNow.routingState == .assigned)
            #expect(chatNow.routingState == .assigned)
            #expect(
                try await eventually(within: 10) {
                    let hankLoad = try await kit.load(desk.hank.id)
                    let heraLoad = try await kit.load(hera.id)
                    return hankLoad == ChannelCounts() && heraLoad == ChannelCounts(email: 1, messaging: 1)
                })
            // The closed conversation stays closed and unmoved.
            let closed = try await kit.conversations.conversation(old)
            #expect(closed.status == .closed)
            #expect(closed.assigneeId == desk.ada.id)

            _ = try await kit.contacts.removeDedicatedHero(contact.id)
            #expect(try await kit.contacts.get(contact.id).dedicatedHero == nil)
            // Unassigning is silent: the next customer message on each thread finds Hera still there.
            let mailAfter = try await kit.routed(
                try await kit.inbound(.email, from: "pia@example.com", body: "still there?", expecting: 200))
            #expect(mailAfter.id == mailID)
            #expect(mailAfter.assigneeId == hera.id)
            #expect(try await kit.conversations.conversation(chatID).assigneeId == hera.id)
            #expect(try await kit.load(hera.id) == ChannelCounts(email: 1, messaging: 1))
            // And a new conversation, with no hero, goes to the default inbox.
            _ = try await kit.conversations.close(chatID)
            let chatAfter = try await kit.routed(
                try await kit.inbound(.messaging, from: "+4521212121", body: "new chat", expecting: 201))
            #expect(chatAfter.assigneeId == desk.ada.id)
        }
    }

    @Test func replacingTheHeroWithAnInboxRoutesOpenConversationsThere() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let desk = try await Self.heroDesk(kit)
            let team = try await kit.inbox("Hero team")
            let tess = try await kit.agent("Tess", inboxes: [team.id])
            let contact = try await Self.customer(kit, "Quinn", phone: "+4522222222")
            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            let mailID = try await kit.routed(try await kit.inbound(.email, from: "quinn@example.com", expecting: 201))
                .id
            #expect(try await kit.conversations.conversation(mailID).assigneeId == desk.hank.id)

            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .inbox, id: team.id))
            let moved = try await kit.conversation(mailID, within: 20) { $0.assigneeId == tess.id }
            #expect(moved.assigneeId == tess.id)
            #expect(moved.inboxId == team.id)
            #expect(try await eventually(within: 10) { try await kit.load(desk.hank.id).email == 0 })
        }
    }

    @Test func theHeroGetsTheNextConversationAfterHandingOneAway() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let desk = try await Self.heroDesk(kit)
            let contact = try await Self.customer(kit, "Rolf", phone: "+4523232323")
            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            let first = try await kit.routed(try await kit.inbound(.email, from: "rolf@example.com", expecting: 201))
            let firstID = first.id
            #expect(first.assigneeId == desk.hank.id)

            let handedOver = try await kit.acting(as: desk.hank).assign(firstID, agentId: desk.ada.id)
            #expect(handedOver.assigneeId == desk.ada.id)
            #expect(
                try await kit.contacts.get(contact.id).dedicatedHero == DedicatedHero(type: .agent, id: desk.hank.id))
            _ = try await kit.acting(as: desk.ada).close(firstID)

            let next = try await kit.routed(
                try await kit.inbound(.email, from: "rolf@example.com", body: "next thing", expecting: 201))
            #expect(next.id != firstID)
            #expect(next.assigneeId == desk.hank.id)
        }
    }

    @Test func anAwayHeroGetsEmailAnywayAndMessagingGoesToTheHeroInbox() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let desk = try await Self.heroDesk(kit)
            let contact = try await Self.customer(kit, "Sven", phone: "+4524242424")
            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            _ = try await cluster.routing(as: .agent, sub: desk.hank.id).setAvailability(desk.hank.id, .away)

            let chat = try await kit.routed(
                try await kit.inbound(.messaging, from: "+4524242424", body: "chat", expecting: 201))
            #expect(chat.inboxId == desk.heroes.id)
            #expect(chat.assigneeId == desk.helen.id)
            #expect(chat.routingState == .assigned)
            let mail = try await kit.routed(
                try await kit.inbound(.email, from: "sven@example.com", body: "mail", expecting: 201))
            #expect(mail.assigneeId == desk.hank.id)
            #expect(mail.routingState == .assigned)
            let voicemail = try await kit.routed(
                try await kit.inbound(.voicemail, from: "+4524242424", body: "voicemail", expecting: 201))
            #expect(voicemail.assigneeId == desk.hank.id)
            let call = try await kit.routed(
                try await kit.inbound(.voice, from: "+4524242424", body: "call", expecting: 201))
            #expect(call.inboxId == desk.support.id)
            #expect(call.assigneeId == desk.ada.id)
        }
    }

    @Test func deactivatingTheHeroHandsContactsToTheHeroInboxAndReroutesTheirConversations() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            // Helen takes email but no chat, so the chat has to wait in the hero inbox.
            let desk = try await Self.heroDesk(kit, helenCapacity: PartialCounts(messaging: 0))
            let contact = try await Self.customer(kit, "Tove", phone: "+4525252525")
            _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: desk.hank.id))
            let mailID = try await kit.routed(try await kit.inbound(.email, from: "tove@example.com", expecting: 201))
                .id
            let chatID = try await kit.routed(try await kit.inbound(.messaging, from: "+4525252525", expecting: 201)).id
            #expect(try await kit.conversations.conversation(mailID).assigneeId == desk.hank.id)
            #expect(try await kit.conversations.conversation(chatID).assigneeId == desk.hank.id)

            _ = try await cluster.routing(as: .teamManager).deactivate(desk.hank.id)
            let heroInbox = DedicatedHero(type: .inbox, id: desk.heroes.id)
            #expect(
                try await eventually(within: 20) { try await kit.contacts.get(contact.id).dedicatedHero == heroInbox })
            let mail = try await kit.conversation(mailID, within: 20) { $0.assigneeId == desk.helen.id }
            #expect(mail.assigneeId == desk.helen.id)
            #expect(mail.routingState == .assigned)
            let chat = try await kit.conversation(chatID, within: 20) { $0.routingState == .queued }
            #expect(chat.routingState == .queued)
            #expect(chat.assigneeId == nil)
            #expect(chat.inboxId == desk.heroes.id)
            #expect(try await kit.load(desk.hank.id) == ChannelCounts())

            // The contact's next conversation goes to the hero inbox.
            let call = try await kit.routed(
                try await kit.inbound(.voicemail, from: "+4525252525", body: "voicemail", expecting: 201))
            #expect(call.inboxId == desk.heroes.id)
            #expect(call.assigneeId == desk.helen.id)
        }
    }
}

/// Merged contacts' conversations (SPEC §3 merge, §4 lists).
@Suite struct ConversationMergeTests {
    @Test func mergedContactsConversationsAreListedAndThreadedUnderTheSurvivor() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let a = try await kit.inbound(.email, from: "anna@example.com", body: "from anna", expecting: 201)
            let b = try await kit.inbound(.email, from: "anna.private@example.com", body: "from b", expecting: 201)
            let aID = try #require(a.conversationId)
            let bID = try #require(b.conversationId)
            #expect(a.contactId != b.contactId)

            let merged = try await kit.contacts.merge(into: a.contactId, sourceID: b.contactId)
            #expect(Set(merged.emails) == ["anna@example.com", "anna.private@example.com"])
            #expect(
                try await eventually(within: 20) {
                    Set(try await kit.allConversations(.init(contactId: a.contactId)).map(\.id)) == [aID, bID]
                })

            let again = try await kit.inbound(.email, from: "anna.private@example.com", body: "b again", expecting: 200)
            #expect(again.contactId == a.contactId)
            #expect([aID, bID].contains(again.conversationId ?? ""))
            #expect(Set(try await kit.allConversations(.init(contactId: a.contactId)).map(\.id)) == [aID, bID])
            #expect(try await kit.allConversations().count == 2)
        }
    }
}
