import ConciergeClients
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The shipped templates run end to end over the four real services (SPEC §5 "The routing
/// workflow", §4 inbound), and paused runs across a new workflow version and a routing crash.
@Suite struct WorkflowRunTests {
    static let question = "What is your email address?"
    static let retry = "That does not look like an email address, please try again."

    /// Support (default for every channel), a VIP team, a manager, and a hero with an inbox of her own.
    struct VIPDesk {
        var support: Inbox
        var vip: Inbox
        var sam: Agent
        var vera: Agent
        var victor: Agent
        var maria: Agent
        var helen: Agent
    }

    /// The desk, and the `vip-routing` template filled with its ids as the active workflow.
    static func vipDesk(_ kit: WorkflowKit) async throws -> VIPDesk {
        let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
        // The inbox's own strategy is round robin: the workflow's least_busy must win.
        let vip = try await kit.inbox("VIP", strategy: .roundRobin)
        let managers = try await kit.inbox("Managers")
        let heroes = try await kit.inbox("Heroes")
        let desk = VIPDesk(
            support: support, vip: vip, sam: try await kit.agent("Sam", inboxes: [support.id]),
            vera: try await kit.agent("Vera", inboxes: [vip.id]),
            victor: try await kit.agent("Victor", inboxes: [vip.id]),
            maria: try await kit.agent("Maria", inboxes: [managers.id]),
            helen: try await kit.agent("Helen", inboxes: [heroes.id]))
        let document = try await kit.template(
            "vip-routing",
            filling: ["<vip inbox id>": vip.id, "<support inbox id>": support.id, "<manager agent id>": desk.maria.id])
        #expect(try await kit.activate(document) == 1)
        return desk
    }

    static func vip(_ kit: WorkflowKit, _ email: String, type: String = "VIP") async throws {
        _ = try await kit.crm.upsert(CustomerInput(email: email, customerType: type, loyaltyStatus: "none"))
    }

    // MARK: - vip-routing

    @Test func vipEmailCustomerGoesToTheVIPTeamByLeastBusy() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            try await Self.vip(kit, "vip1@example.com")
            try await Self.vip(kit, "vip2@example.com")
            // Vera carries two conversations, handed to her by hand; Victor none.
            for n in 1...2 {
                let sent = try await kit.send(.email, from: "busywork\(n)@example.com")
                _ = try await kit.placed(sent.conversationId)
                _ = try await kit.conversations.assign(try #require(sent.conversationId), agentId: desk.vera.id)
            }
            #expect(try await eventually(within: 10) { try await kit.routing.agent(desk.vera.id).load.email == 2 })
            for email in ["vip1@example.com", "vip2@example.com"] {
                let sent = try await kit.send(.email, from: email)
                let placed = try await kit.placed(sent.conversationId)
                #expect(placed.inboxId == desk.vip.id, "\(email)")
                // Least busy: Victor (0, then 1) over Vera (2) both times; round robin would alternate.
                #expect(placed.assigneeId == desk.victor.id, "\(email)")
                #expect(placed.routingState == .assigned)
                let steps = try await kit.tracedSteps(sent.conversationId)
                #expect(steps.contains("lookup") && steps.contains("isVip") && steps.contains("vip"), "\(steps)")
            }
        }
    }

    @Test func regularEmailCustomerGoesToSupport() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            try await Self.vip(kit, "plain@example.com", type: "regular")
            for email in ["plain@example.com", "unknown@example.com"] {
                let sent = try await kit.send(.email, from: email)
                #expect(sent.replies.isEmpty, "\(email)")
                let placed = try await kit.placed(sent.conversationId)
                #expect(placed.inboxId == desk.support.id, "\(email)")
                #expect(placed.assigneeId == desk.sam.id, "\(email)")
                #expect(try await kit.tracedSteps(sent.conversationId).contains("regular"), "\(email)")
            }
        }
    }

    @Test func chatCustomerWithoutEmailIsAskedAndAValidAnswerIsSavedLookedUpAndRouted() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            try await Self.vip(kit, "newvip@example.com")
            let first = try await kit.send(
                .messaging, from: "visitor-1", body: "Hi, anyone there?", name: "Chat Visitor")
            #expect(first.replies.map(\.body) == [Self.question])
            #expect(first.routingState == .awaitingCustomer)
            #expect(first.assigneeId == nil)
            #expect(try await kit.automationMessages(first.conversationId) == [Self.question])

            let invalid = try await kit.send(.messaging, from: "visitor-1", body: "my email? why?")
            #expect(invalid.conversationId == first.conversationId)
            #expect(invalid.replies.map(\.body) == [Self.retry])
            #expect(invalid.routingState == .awaitingCustomer)

            let valid = try await kit.send(.messaging, from: "visitor-1", body: "  NewVIP@Example.com ")
            #expect(valid.conversationId == first.conversationId)
            #expect(valid.replies.map(\.body) == ["Thanks!"])
            let placed = try await kit.placed(valid.conversationId)
            // Saved to the contact, then looked up in the directory: a VIP.
            #expect(placed.inboxId == desk.vip.id)
            #expect([desk.vera.id, desk.victor.id].contains(placed.assigneeId ?? ""))
            #expect(placed.routingState == .assigned)
            #expect(try await kit.contacts.get(first.contactId).emails == ["newvip@example.com"])
            #expect(try await kit.automationMessages(first.conversationId) == [Self.question, Self.retry, "Thanks!"])
            let steps = try await kit.tracedSteps(first.conversationId)
            #expect(steps.contains("askEmail") && steps.contains("lookup") && steps.contains("vip"), "\(steps)")
        }
    }

    @Test func fourInvalidAnswersGoToTheManager() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            let first = try await kit.send(.messaging, from: "visitor-2", body: "Hello")
            #expect(first.replies.map(\.body) == [Self.question])
            // maxRetries 3: three invalid answers are asked again...
            for attempt in 1...3 {
                let answer = try await kit.send(.messaging, from: "visitor-2", body: "nope \(attempt)")
                #expect(answer.replies.map(\.body) == [Self.retry], "attempt \(attempt)")
                #expect(answer.routingState == .awaitingCustomer, "attempt \(attempt)")
            }
            // ...the fourth goes to onExhausted: the manager.
            let last = try await kit.send(.messaging, from: "visitor-2", body: "still@not")
            #expect(last.conversationId == first.conversationId)
            #expect(!last.replies.map(\.body).contains(Self.retry))
            let placed = try await kit.placed(last.conversationId)
            #expect(placed.assigneeId == desk.maria.id)
            #expect(placed.routingState == .assigned)
            #expect(try await kit.contacts.get(first.contactId).emails.isEmpty)
            #expect(try await kit.tracedSteps(first.conversationId).contains("toManager"))
        }
    }

    @Test func anotherContactsEmailIsAnInvalidAnswer() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            let owner = try await kit.contacts.create(NewContact(name: "Owner", emails: ["taken@example.com"]))
            let first = try await kit.send(.messaging, from: "visitor-3", body: "Hello")
            #expect(first.replies.map(\.body) == [Self.question])
            let clash = try await kit.send(.messaging, from: "visitor-3", body: "Taken@Example.com")
            #expect(clash.replies.map(\.body) == [Self.retry])
            #expect(clash.routingState == .awaitingCustomer)
            #expect(try await kit.contacts.get(first.contactId).emails.isEmpty)
            #expect(try await kit.contacts.get(owner.id).emails == ["taken@example.com"])
            // The run is still alive: a free address is taken.
            let valid = try await kit.send(.messaging, from: "visitor-3", body: "free@example.com")
            #expect(valid.replies.map(\.body) == ["Thanks!"])
            let placed = try await kit.placed(valid.conversationId)
            #expect(placed.inboxId == desk.support.id)
            #expect(placed.assigneeId == desk.sam.id)
            #expect(try await kit.contacts.get(first.contactId).emails == ["free@example.com"])
        }
    }

    @Test func dedicatedHeroCustomerIsGreetedByNameAndGoesToTheHero() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.vipDesk(kit)
            // A VIP in the directory too: the hero rule comes first.
            try await Self.vip(kit, "grace@example.com")
            let grace = try await kit.contacts.create(NewContact(name: "Grace Hopper", emails: ["grace@example.com"]))
            _ = try await kit.contacts.setDedicatedHero(grace.id, DedicatedHero(type: .agent, id: desk.helen.id))
            let greeting = "Hi Grace Hopper, we are connecting you with your dedicated agent."
            let sent = try await kit.send(.email, from: "grace@example.com")
            #expect(sent.replies.map(\.body) == [greeting])
            let placed = try await kit.placed(sent.conversationId)
            #expect(placed.assigneeId == desk.helen.id)
            #expect(placed.routingState == .assigned)
            #expect(try await kit.automationMessages(sent.conversationId) == [greeting])
        }
    }

    // MARK: - Paused runs

    /// An `ask` that saves to a variable, then an assign; `tag` tells the versions apart.
    static func orderWorkflow(tag: String, inbox: String) -> String {
        #"""
        {"start": "ask", "steps": [
          {"id": "ask", "type": "ask", "question": "\#(tag): what is your order number?", "expect": "text", "saveTo": "var.Order",
           "successMessage": "\#(tag) noted order {{var.Order}}.", "next": "place"},
          {"id": "place", "type": "assign", "to": {"inbox": "\#(inbox)"}}]}
        """#
    }

    @Test func pausedRunContinuesWithItsOwnVersionAfterTheWorkflowIsReplaced() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            _ = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let old = try await kit.inbox("Old")
            let new = try await kit.inbox("New")
            #expect(try await kit.activate(Self.orderWorkflow(tag: "v1", inbox: old.id)) == 1)
            let early = try await kit.send(.messaging, from: "early-bird", body: "Where is my parcel?")
            #expect(early.replies.map(\.body) == ["v1: what is your order number?"])
            #expect(early.routingState == .awaitingCustomer)

            #expect(try await kit.activate(Self.orderWorkflow(tag: "v2", inbox: new.id)) == 2)
            let answer = try await kit.send(.messaging, from: "early-bird", body: "A-1001")
            #expect(answer.conversationId == early.conversationId)
            #expect(answer.replies.map(\.body) == ["v1 noted order A-1001."])
            #expect(try await kit.placed(answer.conversationId).inboxId == old.id)

            // A conversation that starts now runs version 2.
            let late = try await kit.send(.messaging, from: "late-bird", body: "Where is my parcel?")
            #expect(late.replies.map(\.body) == ["v2: what is your order number?"])
            let lateAnswer = try await kit.send(.messaging, from: "late-bird", body: "B-2002")
            #expect(lateAnswer.replies.map(\.body) == ["v2 noted order B-2002."])
            #expect(try await kit.placed(lateAnswer.conversationId).inboxId == new.id)
        }
    }

    @Test func pausedRunResumesAfterRoutingIsKilled() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let sam = try await kit.agent("Sam", inboxes: [support.id])
            let maria = try await kit.agent("Maria", inboxes: [try await kit.inbox("Managers").id])
            let document = #"""
                {"start": "askEmail", "steps": [
                  {"id": "askEmail", "type": "ask", "question": "\#(Self.question)", "expect": "email", "saveTo": "contact.email",
                   "maxRetries": 1, "retryMessage": "\#(Self.retry)", "successMessage": "Thanks!", "next": "place", "onExhausted": "toManager"},
                  {"id": "place", "type": "assign", "to": {"inbox": "\#(support.id)"}},
                  {"id": "toManager", "type": "assign", "to": {"agent": "\#(maria.id)"}}]}
                """#
            try await kit.activate(document)
            let alice = try await kit.send(.messaging, from: "alice-chat", body: "Hello")
            #expect(alice.replies.map(\.body) == [Self.question])
            let bob = try await kit.send(.messaging, from: "bob-chat", body: "Hello")
            #expect(bob.replies.map(\.body) == [Self.question])
            let bobInvalid = try await kit.send(.messaging, from: "bob-chat", body: "no")
            #expect(bobInvalid.replies.map(\.body) == [Self.retry])

            try await cluster.service(.routing).restart(hard: true)

            // Alice's valid answer resumes her run where it paused.
            let aliceAnswer = try await kit.send(.messaging, from: "alice-chat", body: "alice@example.com")
            #expect(aliceAnswer.conversationId == alice.conversationId)
            let alicePlaced = try await kit.conversation(try #require(alice.conversationId)) {
                $0.routingState == .assigned
            }
            #expect(alicePlaced.inboxId == support.id)
            #expect(alicePlaced.assigneeId == sam.id)
            #expect(try await kit.contacts.get(alice.contactId).emails == ["alice@example.com"])
            #expect(
                try await eventually(within: 10) {
                    try await kit.automationMessages(alice.conversationId) == [Self.question, "Thanks!"]
                })
            // Bob's count of invalid answers survived the crash: his second one exhausts the retries.
            let bobAgain = try await kit.send(.messaging, from: "bob-chat", body: "still no")
            #expect(bobAgain.conversationId == bob.conversationId)
            #expect(!bobAgain.replies.map(\.body).contains(Self.retry))
            let bobPlaced = try await kit.conversation(try #require(bob.conversationId)) {
                $0.routingState == .assigned
            }
            #expect(bobPlaced.assigneeId == maria.id)
        }
    }

    // MARK: - loyalty-priority-queues

    @Test func loyaltyTiersWaitInTheirQueuesAndAreServedByPriority() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: [.email, .messaging, .voicemail])
            let phones = try await kit.inbox("Phones", defaultFor: [.voice])
            let paula = try await kit.agent("Paula", inboxes: [phones.id], capacity: PartialCounts(voice: 1))
            let priority = try await kit.routing.createQueue(
                NewQueue(name: "Priority", inboxId: phones.id, priority: 10))
            let standard = try await kit.routing.createQueue(
                NewQueue(name: "Standard", inboxId: phones.id, priority: 5))
            let general = try await kit.routing.createQueue(NewQueue(name: "General", inboxId: phones.id, priority: 1))
            let document = try await kit.template(
                "loyalty-priority-queues",
                filling: [
                    "<priority queue id>": priority.id, "<standard queue id>": standard.id,
                    "<general queue id>": general.id,
                    "<support inbox id>": support.id,
                ])
            try await kit.activate(document)
            for (phone, status) in [
                ("+4530000001", "gold"), ("+4530000002", "silver"), ("+4530000003", "platinum"),
                ("+4530000004", "gold"),
            ] {
                _ = try await kit.crm.upsert(
                    CustomerInput(phone: phone, customerType: "regular", loyaltyStatus: status))
            }

            // A gold caller while Paula is free: assigned to her (a member of the queue's inbox).
            let first = try await kit.send(.voice, from: "+4530000004")
            let firstPlaced = try await kit.placed(first.conversationId)
            #expect(firstPlaced.assigneeId == paula.id)
            #expect(firstPlaced.inboxId == phones.id)
            #expect(firstPlaced.routingState == .assigned)

            // Paula is busy now: callers wait, each in their tier's queue. Lower tiers call first.
            var waiting: [String: String] = [:]
            for (label, phone, queue) in [
                ("unknown", "+4530000009", general), ("silver", "+4530000002", standard),
                ("gold", "+4530000001", priority),
                ("platinum", "+4530000003", priority),
            ] {
                let sent = try await kit.send(.voice, from: phone)
                let placed = try await kit.placed(sent.conversationId)
                #expect(placed.routingState == .queued, "\(label)")
                #expect(placed.queueId == queue.id, "\(label)")
                #expect(placed.inboxId == phones.id, "\(label)")
                #expect(placed.assigneeId == nil, "\(label)")
                let id = try #require(sent.conversationId)
                waiting[label] = id
            }
            #expect(
                try await kit.routing.queue(priority.id).waiting
                    == [waiting["gold"], waiting["platinum"]].compactMap { $0 })
            #expect(try await kit.routing.queue(standard.id).waiting == [waiting["silver"]].compactMap { $0 })
            #expect(try await kit.routing.queue(general.id).waiting == [waiting["unknown"]].compactMap { $0 })

            // Each time Paula's call ends, the next caller by priority (then age) gets her.
            var current = try #require(first.conversationId)
            for label in ["gold", "platinum", "silver", "unknown"] {
                _ = try await kit.conversations.close(current)
                let next = try #require(waiting[label])
                let served = try await kit.conversation(next) { $0.assigneeId == paula.id }
                #expect(served.assigneeId == paula.id, "\(label) should be served next")
                #expect(served.routingState == .assigned, "\(label)")
                for other in waiting.values where other != next {
                    let conversation = try await kit.conversations.conversation(other)
                    if conversation.status != .closed {
                        #expect(conversation.assigneeId != paula.id, "\(label) was not alone")
                    }
                }
                current = next
            }

            // Other channels go to support.
            let email = try await kit.send(.email, from: "someone@example.com")
            #expect(try await kit.placed(email.conversationId).inboxId == support.id)
        }
    }
}
