import ConciergeAuth
import ConciergeClients
import ConciergeJSON
import ConciergeModels
import Foundation

/// `concierge demo` (SPEC §8): against a running suite, sets up a small contact centre — inboxes,
/// agents, a dedicated hero, VIP and loyalty entries in the CRM directory, and a workflow built from
/// the `vip-routing` template with a loyalty branch for calls — then plays a scripted day and prints
/// where each conversation went and the trace of why, and what the day told the outside (the events
/// its services committed). Names carry a run id, so it can run again.
/// A workflow that no demo saved is not replaced unless `--force` says so.
struct DemoCommand: Equatable {
    /// Replace the routing workflow even when no earlier demo saved it.
    var force = false

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        for word in words {
            guard word == "--force" else {
                throw .usage(
                    "demo takes only --force; it uses the *_URL (or *_PORT) variables and the suite's secret")
            }
            guard !force else { throw .usage("--force is given twice") }
            force = true
        }
    }

    func run(environment: [String: String]) async throws(CLIError) -> Int32 {
        let suite = try Suite.from(environment: environment)
        let admin = TokenSource { suite.token(.administrator, subject: "demo") }
        let service = TokenSource { suite.token(.service, subject: "demo-connector") }
        var demo = DemoScript(
            contacts: ContactsClient(baseURL: suite.url(of: "contacts"), tokens: admin),
            conversations: ConversationsClient(baseURL: suite.url(of: "conversations"), tokens: service),
            conversationsAdmin: ConversationsClient(baseURL: suite.url(of: "conversations"), tokens: admin),
            routing: RoutingClient(baseURL: suite.url(of: "routing"), tokens: admin),
            crm: CRMLookupClient(baseURL: suite.url(of: "crm-lookup"), tokens: admin),
            run: String(Crypto.uuid().prefix(6)))
        do {
            if !force, let version = try await demo.workflowItWouldReplace() {
                Console.err(
                    "concierge demo: routing has a workflow no demo saved (version \(version)); the demo would "
                        + "replace it, so it stops here — run 'concierge demo --force' to replace it")
                return 1
            }
            try await demo.setUp()
            let dayEvents = DemoEvents(
                feeds: suite.members.map {
                    EventFeed(name: $0.name, client: ServiceClient(baseURL: $0.url, tokens: admin), types: nil)
                })
            let before = try await dayEvents.ends()
            try await demo.playTheDay()
            for line in DemoEvents.summary(try await dayEvents.events(after: before)) { Console.out(line) }
            return 0
        } catch let error as ServiceError {
            Console.err("concierge demo: \(FailureReason.of(error))")
            return 1
        } catch {
            Console.err("concierge demo: \(error)")
            return 1
        }
    }
}

/// The demo's data and day, step by step.
struct DemoScript {
    let contacts: ContactsClient
    let conversations: ConversationsClient
    let conversationsAdmin: ConversationsClient
    let routing: RoutingClient
    let crm: CRMLookupClient
    let run: String
    private(set) var names: [String: String] = [:]
    private var hero: Contact?

    init(
        contacts: ContactsClient, conversations: ConversationsClient, conversationsAdmin: ConversationsClient,
        routing: RoutingClient, crm: CRMLookupClient, run: String
    ) {
        self.contacts = contacts
        self.conversations = conversations
        self.conversationsAdmin = conversationsAdmin
        self.routing = routing
        self.crm = crm
        self.run = run
    }

    private var goldPhone: String { "+4520\(run.utf8.reduce(0) { ($0 * 31 + Int($1)) % 1_000_000 } + 1_000_000)" }
    private var heroPhone: String { "+4530\(run.utf8.reduce(7) { ($0 * 17 + Int($1)) % 1_000_000 } + 1_000_000)" }

    /// The version of the active workflow if saving the demo's would replace one of the operator's:
    /// `nil` when none is saved (default routing) or an earlier demo saved it.
    func workflowItWouldReplace() async throws(ServiceError) -> String? {
        let active: JSONValue
        do {
            active = try await routing.client.call("GET", "/v1/workflow", as: JSONValue.self)
        } catch let error where error.status == 404 {
            return nil
        }
        guard !Self.isDemoWorkflow(active) else { return nil }
        return active.objectValue?["version"]?.text ?? "?"
    }

    /// Whether `document` is the workflow `setUp` saves: the same start and steps (ids and types);
    /// the inboxes, agents and queues it points at differ from run to run.
    static func isDemoWorkflow(_ document: JSONValue) -> Bool {
        func shape(_ workflow: JSONValue) -> [String] {
            let object = workflow.objectValue
            let steps = object?["steps"]?.arrayValue ?? []
            return [object?["start"]?.stringValue ?? ""]
                + steps.map {
                    ($0.objectValue?["id"]?.stringValue ?? "") + ":" + ($0.objectValue?["type"]?.stringValue ?? "")
                }
        }
        return shape(document) == shape(workflow(vip: "", support: "", manager: "", priority: "", general: ""))
    }

    mutating func setUp() async throws {
        Console.out("Setting up demo run \(run)…")
        let support = try await inbox("Support", senderName: "Acme Support", strategy: .roundRobin)
        let vip = try await inbox("VIP Team", senderName: "Acme VIP Desk", strategy: .leastBusy)
        let voice = try await inbox("Phones", senderName: "Acme Phones", strategy: .roundRobin)
        let priority = try await routing.createQueue(
            NewQueue(name: "Priority (\(run))", inboxId: voice.id, priority: 10))
        let general = try await routing.createQueue(NewQueue(name: "General (\(run))", inboxId: voice.id, priority: 0))
        names[priority.id] = "the Priority queue"
        names[general.id] = "the General queue"
        _ = try await agent("Sue", in: support)
        _ = try await agent("Sam", in: support)
        _ = try await agent("Vera", in: vip)
        _ = try await agent("Victor", in: vip)
        let phones = try await agent("Pat", in: voice)
        _ = try await routing.updateAgent(phones.id, AgentPatch(capacity: PartialCounts(voice: 0)))
        let manager = try await agent("Max", in: support, role: .teamManager)
        let heroAgent = try await agent("Hana", in: support)
        _ = try await routing.setAvailability(heroAgent.id, .away)

        _ = try await crm.upsert(
            CustomerInput(email: "vip-\(run)@acme.example", customerType: "VIP", loyaltyStatus: "platinum"))
        _ = try await crm.upsert(CustomerInput(phone: goldPhone, customerType: "regular", loyaltyStatus: "gold"))
        var helga = try await contacts.create(
            NewContact(name: "Helga", emails: ["helga-\(run)@example.com"], phones: [heroPhone]))
        helga = try await contacts.setDedicatedHero(helga.id, DedicatedHero(type: .agent, id: heroAgent.id))
        hero = helga

        let workflow = Self.workflow(
            vip: vip.id, support: support.id, manager: manager.id, priority: priority.id, general: general.id)
        let saved = try await routing.client.call(
            "PUT", "/v1/workflow", body: workflow, as: JSONValue.self)
        Console.out(
            "Workflow saved (version \(saved.objectValue?["version"]?.text ?? "?")): vip-routing with a loyalty branch for calls."
        )
        Console.out("Hana is Helga's dedicated agent, and she is away today. Pat on the phones is busy.\n")
    }

    mutating func playTheDay() async throws {
        try await show(
            "1. A VIP writes an email",
            InboundRequest(
                channel: .email, from: "vip-\(run)@acme.example", name: "Viktoria", subject: "Invoice",
                body: "Hello, my invoice is wrong."))
        let chat = InboundRequest(
            channel: .messaging, from: "web-visitor-\(run)", name: "Chris", body: "Hi, I need help with my order.")
        let first = try await show("2. A regular customer opens a chat (we do not know their email)", chat)
        var answer = chat
        answer.conversationId = first.conversationId
        answer.body = "not telling"
        _ = try await show("   …they answer with something that is not an email", answer)
        answer.body = "chris-\(run)@example.com"
        _ = try await show("   …then with their email", answer)
        try await show(
            "3. A gold loyalty member calls", InboundRequest(channel: .voice, from: goldPhone, body: "(call)"))
        try await show(
            "4. Helga, whose dedicated agent Hana is away, writes on chat",
            InboundRequest(channel: .messaging, from: heroPhone, name: "Helga", body: "Is Hana in today?"))
    }

    @discardableResult
    private func show(_ title: String, _ message: InboundRequest) async throws -> InboundResult {
        let result = try await conversations.inbound(message)
        Console.out(title)
        guard let conversationID = result.conversationId else {
            Console.out("   → dropped (\(result.reason ?? "?"))\n")
            return result
        }
        let conversation = try await conversationsAdmin.conversation(conversationID)
        Console.out("   → " + placement(conversation))
        for reply in result.replies { Console.out("   automatic reply: “\(reply.body)”") }
        if let decision = try? await routing.decision(conversationID) {
            Console.out("   why:")
            for step in decision.trace where step.step != "skip" {
                Console.out("     \(step.step): \(readable(step.outcome))")
            }
        }
        Console.out("")
        return result
    }

    private func placement(_ conversation: Conversation) -> String {
        let inbox = conversation.inboxId.map { names[$0] ?? $0 } ?? "no inbox"
        switch conversation.routingState {
        case .assigned: return "assigned to \(conversation.assigneeId.map { names[$0] ?? $0 } ?? "?") in \(inbox)"
        case .queued: return "waiting in \(conversation.queueId.map { names[$0] ?? $0 } ?? "the queue of \(inbox)")"
        case .awaitingCustomer: return "waiting for the customer's answer"
        case .pending: return "accepted; routing pending"
        case .none: return "not routed"
        }
    }

    /// Replaces ids in a trace line with names.
    private func readable(_ text: String) -> String {
        names.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    private mutating func inbox(_ name: String, senderName: String, strategy: Strategy) async throws -> Inbox {
        let inbox = try await routing.createInbox(
            NewInbox(name: "\(name) (\(run))", senderName: senderName, strategy: strategy))
        names[inbox.id] = name
        return inbox
    }

    private mutating func agent(_ name: String, in inbox: Inbox, role: Role = .agent) async throws -> Agent {
        let agent = try await routing.createAgent(
            NewAgent(name: name, email: "\(name.lowercased())-\(run)@acme.example", role: role, inboxIds: [inbox.id]))
        names[agent.id] = name
        return agent
    }

    static func workflow(vip: String, support: String, manager: String, priority: String, general: String) -> JSONValue
    {
        let text = """
            {"start": "isCall",
             "steps": [
              {"id": "isCall", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "voice"}, "goto": "loyalty"}], "else": "hero"},
              {"id": "loyalty", "type": "lookup", "by": "phone", "source": "directory", "map": {"Loyalty": "$.loyaltyStatus"},
               "next": "tier", "onNotFound": "generalQueue", "onError": "generalQueue"},
              {"id": "tier", "type": "branch", "cases": [{"if": {"field": "var.Loyalty", "op": "in", "value": ["gold", "platinum"]}, "goto": "priorityQueue"}], "else": "generalQueue"},
              {"id": "priorityQueue", "type": "assign", "to": {"queue": "\(priority)"}},
              {"id": "generalQueue", "type": "assign", "to": {"queue": "\(general)"}},
              {"id": "hero", "type": "branch", "cases": [{"if": {"dedicatedHero": "assigned"}, "goto": "greet"}], "else": "hasEmail"},
              {"id": "greet", "type": "reply", "body": "Hi {{contact.name}}, we are connecting you with your dedicated agent.", "next": "toHero"},
              {"id": "toHero", "type": "assign", "to": "dedicatedHero"},
              {"id": "hasEmail", "type": "branch", "cases": [{"if": {"field": "contact.email", "op": "exists"}, "goto": "lookup"}], "else": "askEmail"},
              {"id": "askEmail", "type": "ask", "question": "What is your email address?", "expect": "email", "saveTo": "contact.email",
               "maxRetries": 3, "retryMessage": "That does not look like an email address, please try again.", "successMessage": "Thanks!",
               "next": "lookup", "onExhausted": "toManager"},
              {"id": "lookup", "type": "lookup", "by": "email", "source": "directory", "map": {"CustomerType": "$.customerType"},
               "next": "isVip", "onNotFound": "regular", "onError": "regular"},
              {"id": "isVip", "type": "branch", "cases": [{"if": {"field": "var.CustomerType", "op": "equals", "value": "VIP"}, "goto": "vip"}], "else": "regular"},
              {"id": "vip", "type": "assign", "to": {"inbox": "\(vip)", "strategy": "least_busy"}},
              {"id": "regular", "type": "assign", "to": {"inbox": "\(support)"}},
              {"id": "toManager", "type": "assign", "to": {"agent": "\(manager)"}}
             ]}
            """
        return (try? JSONCoding.decode(JSONValue.self, from: Array(text.utf8))) ?? .null
    }
}
