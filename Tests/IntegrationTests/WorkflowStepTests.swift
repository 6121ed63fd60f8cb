import ConciergeClients
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Each workflow step type, condition field, operator and assign target over the real services
/// (SPEC §5 "The routing workflow").
@Suite struct WorkflowStepTests {
    // MARK: - tag, lookup, reply

    @Test func tagLookupAndReplyFillTheConversation() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let sam = try await kit.agent("Sam", inboxes: [support.id])
            _ = try await kit.crm.upsert(
                CustomerInput(
                    email: "tia@example.com", customerType: "regular", loyaltyStatus: "gold",
                    attributes: [
                        "tier": .string("platinum"), "badges": .array([.string("early-adopter"), .string("beta")]),
                    ]))
            try await kit.activate(
                #"""
                {"start": "tag", "steps": [
                  {"id": "tag", "type": "tag", "tags": ["Billing", "workflow-seen"], "next": "lookup"},
                  {"id": "lookup", "type": "lookup", "by": "email", "source": "directory",
                   "map": {"Tier": "$.attributes.tier", "Badge": "$.attributes.badges[0]", "Loyalty": "$.loyaltyStatus"},
                   "next": "greet", "onNotFound": "stranger", "onError": "stranger"},
                  {"id": "greet", "type": "reply", "body": "Hello {{contact.name}}: tier {{var.Tier}}, badge {{var.Badge}}, {{var.Loyalty}} member.", "next": "place"},
                  {"id": "stranger", "type": "reply", "body": "Hello {{contact.name}}, we will find you.", "next": "place"},
                  {"id": "place", "type": "assign", "to": {"inbox": "\#(support.id)"}}]}
                """#)
            let known = try await kit.send(.email, from: "tia@example.com", name: "Tia Tier")
            let greeting = "Hello Tia Tier: tier platinum, badge early-adopter, gold member."
            #expect(known.replies.map(\.body) == [greeting])
            let placed = try await kit.placed(known.conversationId)
            #expect(Set(placed.tags) == ["Billing", "workflow-seen"])
            #expect(placed.assigneeId == sam.id)
            #expect(try await kit.automationMessages(known.conversationId) == [greeting])

            let stranger = try await kit.send(.email, from: "nobody@example.com", name: "Ned")
            #expect(stranger.replies.map(\.body) == ["Hello Ned, we will find you."])
            #expect(Set(try await kit.placed(stranger.conversationId).tags) == ["Billing", "workflow-seen"])
        }
    }

    @Test func askForAPhoneNumberSavesItNormalisedToTheContact() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let sam = try await kit.agent("Sam", inboxes: [support.id])
            let question = "Which number can we call you on?"
            let retry = "Please give the number with its country code, e.g. +45 12 34 56 78."
            try await kit.activate(
                #"""
                {"start": "hasPhone", "steps": [
                  {"id": "hasPhone", "type": "branch", "cases": [{"if": {"field": "contact.phone", "op": "exists"}, "goto": "place"}], "else": "askPhone"},
                  {"id": "askPhone", "type": "ask", "question": "\#(question)", "expect": "phone", "saveTo": "contact.phone", "maxRetries": 2,
                   "retryMessage": "\#(retry)", "successMessage": "We will call {{contact.phone}}.", "next": "place", "onExhausted": "place"},
                  {"id": "place", "type": "assign", "to": {"inbox": "\#(support.id)"}}]}
                """#)
            let first = try await kit.send(.email, from: "caller@example.com")
            #expect(first.replies.map(\.body) == [question])
            #expect(first.routingState == .awaitingCustomer)
            let local = try await kit.send(.email, from: "caller@example.com", body: "12345678")
            #expect(local.conversationId == first.conversationId)
            #expect(local.replies.map(\.body) == [retry])
            let valid = try await kit.send(.email, from: "caller@example.com", body: "+45 12 34-56 78")
            #expect(valid.replies.map(\.body) == ["We will call +4512345678."])
            #expect(try await kit.placed(valid.conversationId).assigneeId == sam.id)
            #expect(try await kit.contacts.get(first.contactId).phones == ["+4512345678"])
        }
    }

    // MARK: - Conditions

    /// Who sends a message. `#` in addresses (and in the case's condition) becomes the case number, so
    /// every case has new contacts.
    struct Sender: Sendable {
        var channel: Channel
        var from: String
        var body = "Hello"
        var preset: NewContact?
        var hero = false
        /// A directory entry for the sender's email (the workflow looks every contact up first).
        var customerType: String?
    }

    struct ConditionCase: Sendable {
        var name: String
        var condition: String
        var match: Sender
        var miss: Sender
    }

    static func contact(
        _ emails: [String] = [], phones: [String] = [], tags: [String] = [], attributes: [String: String] = [:]
    )
        -> NewContact
    {
        NewContact(name: "Preset", emails: emails, phones: phones, tags: tags, attributes: attributes)
    }

    static let conditionCases: [ConditionCase] = [
        ConditionCase(
            name: "dedicatedHero assigned", condition: #"{"dedicatedHero": "assigned"}"#,
            match: Sender(
                channel: .email, from: "hero#@example.com", preset: contact(["hero#@example.com"]), hero: true),
            miss: Sender(channel: .email, from: "nohero#@example.com")),
        ConditionCase(
            name: "dedicatedHero unassigned", condition: #"{"dedicatedHero": "unassigned"}"#,
            match: Sender(channel: .email, from: "nohero#@example.com"),
            miss: Sender(channel: .email, from: "hero#@example.com", preset: contact(["hero#@example.com"]), hero: true)
        ),
        ConditionCase(
            name: "contact.email exists", condition: #"{"field": "contact.email", "op": "exists"}"#,
            match: Sender(channel: .email, from: "e#@example.com"), miss: Sender(channel: .messaging, from: "handle-#")),
        ConditionCase(
            name: "contact.email equals, case-insensitive",
            condition: #"{"field": "contact.email", "op": "equals", "value": "MiXed#@Example.COM"}"#,
            match: Sender(channel: .email, from: "mixed#@example.com"),
            miss: Sender(channel: .email, from: "other#@example.com")),
        ConditionCase(
            name: "contact.email endsWith",
            condition: #"{"field": "contact.email", "op": "endsWith", "value": "@super-important-customer.com"}"#,
            match: Sender(channel: .email, from: "ceo#@Super-Important-Customer.com"),
            miss: Sender(channel: .email, from: "ceo#@example.com")),
        ConditionCase(
            name: "contact.phone exists", condition: #"{"field": "contact.phone", "op": "exists"}"#,
            match: Sender(channel: .voice, from: "+45200#0001"),
            miss: Sender(channel: .email, from: "nophone#@example.com")),
        ConditionCase(
            name: "contact.phone startsWith",
            condition: #"{"field": "contact.phone", "op": "startsWith", "value": "+45"}"#,
            match: Sender(channel: .voice, from: "+45210#0002"), miss: Sender(channel: .voice, from: "+44210#0002")),
        ConditionCase(
            name: "contact.tag equals, case-insensitive",
            condition: #"{"field": "contact.tag", "op": "equals", "value": "gold"}"#,
            match: Sender(
                channel: .email, from: "tag#@example.com", preset: contact(["tag#@example.com"], tags: ["GOLD"])),
            miss: Sender(
                channel: .email, from: "tagmiss#@example.com",
                preset: contact(["tagmiss#@example.com"], tags: ["silver"]))),
        ConditionCase(
            name: "contact.tag with two tags matches when any does",
            condition: #"{"field": "contact.tag", "op": "equals", "value": "beta"}"#,
            match: Sender(
                channel: .email, from: "two#@example.com",
                preset: contact(["two#@example.com"], tags: ["alpha", "beta"])),
            miss: Sender(
                channel: .email, from: "one#@example.com", preset: contact(["one#@example.com"], tags: ["alpha"]))),
        ConditionCase(
            name: "contact.email with two emails matches when any does",
            condition: #"{"field": "contact.email", "op": "endsWith", "value": "@two.example"}"#,
            match: Sender(
                channel: .email, from: "first#@one.example",
                preset: contact(["first#@one.example", "second#@two.example"])),
            miss: Sender(channel: .email, from: "only#@one.example", preset: contact(["only#@one.example"]))),
        ConditionCase(
            name: "contact.attribute equals",
            condition: #"{"field": "contact.attribute.plan", "op": "equals", "value": "pro"}"#,
            match: Sender(
                channel: .email, from: "pro#@example.com",
                preset: contact(["pro#@example.com"], attributes: ["plan": "Pro"])),
            miss: Sender(
                channel: .email, from: "basic#@example.com",
                preset: contact(["basic#@example.com"], attributes: ["plan": "basic"]))),
        ConditionCase(
            name: "contact.attribute exists", condition: #"{"field": "contact.attribute.plan", "op": "exists"}"#,
            match: Sender(
                channel: .email, from: "plan#@example.com",
                preset: contact(["plan#@example.com"], attributes: ["plan": "x"])),
            miss: Sender(channel: .email, from: "noplan#@example.com")),
        ConditionCase(
            name: "channel equals, case-insensitive",
            condition: #"{"field": "channel", "op": "equals", "value": "MESSAGING"}"#,
            match: Sender(channel: .messaging, from: "chat-#"), miss: Sender(channel: .email, from: "mail#@example.com")
        ),
        ConditionCase(
            name: "channel notEquals", condition: #"{"field": "channel", "op": "notEquals", "value": "email"}"#,
            match: Sender(channel: .voicemail, from: "+45220#0003"),
            miss: Sender(channel: .email, from: "mail#@example.com")),
        ConditionCase(
            name: "channel in", condition: #"{"field": "channel", "op": "in", "value": ["voice", "voicemail"]}"#,
            match: Sender(channel: .voice, from: "+45230#0004"), miss: Sender(channel: .messaging, from: "chat-#")),
        ConditionCase(
            name: "message.body contains, case-insensitive",
            condition: #"{"field": "message.body", "op": "contains", "value": "refund"}"#,
            match: Sender(channel: .email, from: "r#@example.com", body: "I would like a REFUND, please."),
            miss: Sender(channel: .email, from: "p#@example.com", body: "Where is my parcel?")),
        ConditionCase(
            name: "message.body startsWith",
            condition: #"{"field": "message.body", "op": "startsWith", "value": "urgent"}"#,
            match: Sender(channel: .email, from: "u#@example.com", body: "Urgent: the shop is down"),
            miss: Sender(channel: .email, from: "n#@example.com", body: "Not urgent at all")),
        ConditionCase(
            name: "var from a lookup equals", condition: #"{"field": "var.Type", "op": "equals", "value": "vip"}"#,
            match: Sender(channel: .email, from: "dirvip#@example.com", customerType: "VIP"),
            miss: Sender(channel: .email, from: "dirregular#@example.com", customerType: "regular")),
        ConditionCase(
            name: "all",
            condition:
                #"{"all": [{"field": "channel", "op": "equals", "value": "email"}, {"field": "message.body", "op": "contains", "value": "invoice"}]}"#,
            match: Sender(channel: .email, from: "inv#@example.com", body: "Invoice 42 is wrong"),
            miss: Sender(channel: .messaging, from: "chatinv-#", body: "Invoice 42 is wrong")),
        ConditionCase(
            name: "any",
            condition:
                #"{"any": [{"field": "contact.tag", "op": "equals", "value": "vip"}, {"field": "contact.attribute.plan", "op": "equals", "value": "enterprise"}]}"#,
            match: Sender(
                channel: .email, from: "ent#@example.com",
                preset: contact(["ent#@example.com"], attributes: ["plan": "enterprise"])),
            miss: Sender(
                channel: .email, from: "reg#@example.com", preset: contact(["reg#@example.com"], tags: ["regular"]))),
        ConditionCase(
            name: "not", condition: #"{"not": {"field": "channel", "op": "equals", "value": "email"}}"#,
            match: Sender(channel: .messaging, from: "notmail-#"),
            miss: Sender(channel: .email, from: "mail2#@example.com")),
    ]

    @Test func branchConditionsPickTheCaseForEachFieldAndOperator() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            _ = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let matched = try await kit.inbox("Matched")
            let unmatched = try await kit.inbox("Unmatched")
            _ = try await kit.agent("Mo", inboxes: [matched.id])
            _ = try await kit.agent("Una", inboxes: [unmatched.id])
            let helen = try await kit.agent("Helen", inboxes: [try await kit.inbox("Heroes").id])
            for (index, item) in Self.conditionCases.enumerated() {
                let number = String(format: "%02d", index)
                func fill(_ text: String) -> String { text.replacingOccurrences(of: "#", with: number) }
                try await kit.activate(
                    #"""
                    {"start": "lookup", "steps": [
                      {"id": "lookup", "type": "lookup", "by": "email", "map": {"Type": "$.customerType"},
                       "next": "check", "onNotFound": "check", "onError": "check"},
                      {"id": "check", "type": "branch", "cases": [{"if": \#(fill(item.condition)), "goto": "yes"}], "else": "no"},
                      {"id": "yes", "type": "assign", "to": {"inbox": "\#(matched.id)"}},
                      {"id": "no", "type": "assign", "to": {"inbox": "\#(unmatched.id)"}}]}
                    """#)
                for (sender, expected, label) in [(item.match, matched.id, "match"), (item.miss, unmatched.id, "miss")]
                {
                    if let type = sender.customerType {
                        _ = try await kit.crm.upsert(
                            CustomerInput(email: fill(sender.from), customerType: type, loyaltyStatus: "none"))
                    }
                    if var preset = sender.preset {
                        preset.emails = preset.emails?.map(fill)
                        preset.phones = preset.phones?.map(fill)
                        let created = try await kit.contacts.create(preset)
                        if sender.hero {
                            _ = try await kit.contacts.setDedicatedHero(
                                created.id, DedicatedHero(type: .agent, id: helen.id))
                        }
                    }
                    let sent = try await kit.send(sender.channel, from: fill(sender.from), body: sender.body)
                    let placed = try await kit.placed(sent.conversationId)
                    #expect(placed.inboxId == expected, "\(item.name): the \(label) sender went to the wrong inbox")
                }
            }
        }
    }

    // MARK: - assign targets and default routing

    @Test func assignToAnAgentIgnoresAvailability() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            _ = try await kit.agent("Sam", inboxes: [support.id])
            let awa = try await kit.agent("Awa", inboxes: [support.id], availability: .away)
            try await kit.activate(
                #"{"start": "toAwa", "steps": [{"id": "toAwa", "type": "assign", "to": {"agent": "\#(awa.id)"}}]}"#)
            let sent = try await kit.send(.messaging, from: "chatter-1")
            let placed = try await kit.placed(sent.conversationId)
            #expect(placed.assigneeId == awa.id)
            #expect(placed.routingState == .assigned)
            #expect(try await kit.routing.agent(awa.id).load.messaging == 1)
        }
    }

    @Test func assignToAQueueWaitsThereUntilSomeoneIsFree() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            _ = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let callbacks = try await kit.inbox("Callbacks")
            let cleo = try await kit.agent("Cleo", inboxes: [callbacks.id], availability: .offline)
            let queue = try await kit.routing.createQueue(
                NewQueue(name: "Call back today", inboxId: callbacks.id, priority: 3))
            try await kit.activate(
                #"{"start": "wait", "steps": [{"id": "wait", "type": "assign", "to": {"queue": "\#(queue.id)"}}]}"#)
            let sent = try await kit.send(.email, from: "later@example.com")
            let placed = try await kit.placed(sent.conversationId)
            #expect(placed.routingState == .queued)
            #expect(placed.queueId == queue.id)
            #expect(placed.inboxId == callbacks.id)
            #expect(placed.assigneeId == nil)
            #expect(try await kit.routing.queue(queue.id).waiting == [try #require(sent.conversationId)])
            // The queue drains to its inbox's member once she is available.
            _ = try await kit.routing.setAvailability(cleo.id, .available)
            let served = try await kit.conversation(try #require(sent.conversationId)) { $0.assigneeId == cleo.id }
            #expect(served.assigneeId == cleo.id)
            #expect(served.routingState == .assigned)
            #expect(try await kit.routing.queue(queue.id).waiting == [])
        }
    }

    @Test func assignToAnInboxWithNobodyFreeWaitsInItsImplicitQueue() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            _ = try await kit.agent("Sam", inboxes: [support.id])
            let billing = try await kit.inbox("Billing")
            _ = try await kit.agent("Bea", inboxes: [billing.id], availability: .away)
            try await kit.activate(
                #"{"start": "bill", "steps": [{"id": "bill", "type": "assign", "to": {"inbox": "\#(billing.id)", "strategy": "round_robin"}}]}"#
            )
            let sent = try await kit.send(.email, from: "payer@example.com")
            let placed = try await kit.placed(sent.conversationId)
            #expect(placed.routingState == .queued)
            #expect(placed.inboxId == billing.id)
            #expect(placed.assigneeId == nil)
            #expect(try await kit.routing.queue(billing.id).waiting == [try #require(sent.conversationId)])
        }
    }

    /// Email and chat each have their own default inbox; Helen is a hero.
    struct DefaultsDesk {
        var emailDesk: Inbox
        var chatDesk: Inbox
        var helen: Agent
    }

    static func defaultsDesk(_ kit: WorkflowKit) async throws -> DefaultsDesk {
        let emailDesk = try await kit.inbox("Email desk", defaultFor: [.email])
        let chatDesk = try await kit.inbox("Chat desk", defaultFor: [.messaging])
        _ = try await kit.agent("Eve", inboxes: [emailDesk.id])
        _ = try await kit.agent("Chad", inboxes: [chatDesk.id])
        let helen = try await kit.agent("Helen", inboxes: [try await kit.inbox("Heroes").id])
        return DefaultsDesk(emailDesk: emailDesk, chatDesk: chatDesk, helen: helen)
    }

    /// A contact with Helen as dedicated hero, reachable on email.
    static func heroCustomer(_ kit: WorkflowKit, _ email: String, hero: Agent) async throws {
        let contact = try await kit.contacts.create(NewContact(name: "Hero customer", emails: [email]))
        _ = try await kit.contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: hero.id))
    }

    @Test func assignToDedicatedHeroWithoutAHeroFallsToTheChannelsDefaultInbox() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.defaultsDesk(kit)
            try await kit.activate(
                #"{"start": "toHero", "steps": [{"id": "toHero", "type": "assign", "to": "dedicatedHero"}]}"#)
            try await Self.heroCustomer(kit, "has-hero@example.com", hero: desk.helen)
            let withHero = try await kit.placed(try await kit.send(.email, from: "has-hero@example.com").conversationId)
            #expect(withHero.assigneeId == desk.helen.id)
            let email = try await kit.placed(try await kit.send(.email, from: "no-hero@example.com").conversationId)
            #expect(email.inboxId == desk.emailDesk.id)
            #expect(email.routingState == .assigned)
            let chat = try await kit.placed(try await kit.send(.messaging, from: "no-hero-chat").conversationId)
            #expect(chat.inboxId == desk.chatDesk.id)
            #expect(chat.routingState == .assigned)
        }
    }

    @Test func runEndingWithoutAnAssignUsesDefaultRouting() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.defaultsDesk(kit)
            try await kit.activate(
                #"""
                {"start": "mark", "steps": [
                  {"id": "mark", "type": "tag", "tags": ["seen-by-workflow"], "next": "other"},
                  {"id": "other", "type": "branch", "cases": [{"if": {"field": "message.body", "op": "contains", "value": "never-sent"}, "goto": "nowhere"}]},
                  {"id": "nowhere", "type": "assign", "to": {"inbox": "\#(desk.chatDesk.id)"}}]}
                """#)
            try await Self.heroCustomer(kit, "has-hero@example.com", hero: desk.helen)
            let withHero = try await kit.placed(try await kit.send(.email, from: "has-hero@example.com").conversationId)
            #expect(withHero.assigneeId == desk.helen.id)
            #expect(withHero.tags == ["seen-by-workflow"])
            let plain = try await kit.placed(try await kit.send(.email, from: "plain@example.com").conversationId)
            #expect(plain.inboxId == desk.emailDesk.id)
            #expect(plain.routingState == .assigned)
            #expect(plain.tags == ["seen-by-workflow"])
        }
    }
}
