import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization
import TestSupport
import Testing

/// Deployment and operations: the suite as `compose/docker-compose.yml` wires it, one
/// request id followed through all four services' logs (SPEC §2), and a SIGTERM under load that
/// loses no accepted message (SPEC §2 shutdown and reliability promises).
@Suite struct DeploymentTests {
    static let composeFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("compose/docker-compose.yml").path

    // MARK: - Build context

    /// The image is built from the repository: the build context must leave out build folders, local
    /// data (the JWT secret `concierge up` writes to `data/jwt-secret`) and databases.
    @Test func theBuildContextLeavesOutBuildFoldersSecretsAndDatabases() throws {
        let root = URL(fileURLWithPath: Self.composeFile).deletingLastPathComponent().deletingLastPathComponent()
        let ignored = try String(contentsOf: root.appendingPathComponent(".dockerignore"), encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        for pattern in [".build/", "data/", "*.sqlite"] {
            #expect(ignored.contains(pattern), "\(pattern) is in the build context")
        }
    }

    // MARK: - Compose parity

    /// Runs the four executables with exactly the environment compose gives each (see
    /// `ComposeDeployment` for the three things mapped: ports, service host names, volumes;
    /// `HOST=0.0.0.0` is kept), in `depends_on` order, and proves every link between services
    /// that compose must wire: a URL that compose forgot or got wrong leaves the service on its
    /// default `127.0.0.1:808x`, where nothing of this test listens, and a step below fails.
    @Test(.timeLimit(.minutes(2)))
    func theComposeDeploymentStartsInOrderAndEveryServiceReachesTheOthers() async throws {
        try await withComposeDeployment(Self.composeFile) { cluster, deployment in
            #expect(Set(deployment.services.map(\.kind)) == Set(ServiceKind.allCases))
            let order = deployment.services.map(\.name)
            for service in deployment.services {
                for dependency in service.dependsOn.keys {
                    #expect(
                        (order.firstIndex(of: dependency) ?? .max) < (order.firstIndex(of: service.name) ?? -1),
                        "\(service.name) started before \(dependency)")
                }
                // Published ports reach the port the service listens on, on the host's loopback only.
                #expect(!service.published.isEmpty, "\(service.name) publishes no port")
                for port in service.published {
                    #expect(
                        port.containerPort == service.containerPort,
                        "\(service.name) publishes \(port), listens on \(service.containerPort)")
                    #expect(port.hostIP == "127.0.0.1", "\(service.name) publishes \(port) beyond loopback")
                }
                // Docker kills a container stop_grace_period (default 10 s) after SIGTERM; the drain
                // alone may take 10 s.
                let grace = service.stopGraceSeconds ?? 10
                #expect(grace > 10, "\(service.name): stop_grace_period \(grace) s")
                // The token secret comes as a file secret, never in the environment (`docker inspect`
                // shows that); the services read it, or no call below would get past their token check.
                #expect(service.composeEnvironment["CONCIERGE_JWT_SECRET"] == nil)
                #expect(service.composeEnvironment["CONCIERGE_JWT_SECRET_FILE"] == "/run/secrets/jwt-secret")
                let secretFile = try #require(service.environment["CONCIERGE_JWT_SECRET_FILE"])
                #expect(
                    try String(contentsOfFile: secretFile, encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines) == cluster.secret)
                // Said explicitly, though it is the services' default: a deployment calls no CRM on its
                // own network unless its operator says so.
                #expect(service.composeEnvironment["CONCIERGE_ALLOW_PRIVATE_TARGETS"] == "false", "\(service.name)")
            }

            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let vip = try await kit.inbox("VIP")
            let crmDown = try await kit.inbox("CRM down")
            let ada = try await kit.agent("Ada", inboxes: [support.id])
            let vera = try await kit.agent("Vera", inboxes: [vip.id], availability: .busy)
            _ = try await kit.crm.upsert(
                CustomerInput(email: "vip@example.com", customerType: "VIP", loyaltyStatus: "gold"))
            let lookup = try await kit.crm.lookup(email: "vip@example.com")
            #expect(lookup.found && lookup.source == "directory")
            try await kit.activate(Self.askLookupWorkflow(vip: vip, support: support, crmDown: crmDown))

            // conversations → contacts (resolve), conversations → routing (route),
            // routing → crm-lookup (not found, rather than the onError step).
            let regular = try await kit.send(.email, from: "regular@example.com")
            let regularID = try #require(regular.conversationId)
            let placed = try await kit.placed(regularID)
            #expect(placed.routingState == .assigned)
            #expect(placed.assigneeId == ada.id)
            #expect(placed.inboxId == support.id)
            #expect(try await kit.tracedSteps(regularID).contains("regular"))
            #expect(try await kit.contacts.get(regular.contactId).emails == ["regular@example.com"])

            // routing → contacts (the ask step saves the answer on the contact), then → crm-lookup (a VIP).
            let chat = try await kit.send(.messaging, from: "chat-visitor", body: "Hello?")
            let chatID = try #require(chat.conversationId)
            #expect(try await kit.placed(chatID).routingState == .awaitingCustomer)
            #expect(try await kit.automationMessages(chatID) == [Self.question])
            let answer = try await kit.send(.messaging, from: "chat-visitor", body: "vip@example.com")
            #expect(answer.conversationId == chatID)
            let queued = try await kit.conversation(chatID) { $0.routingState == .queued }
            let chatSteps = try await kit.tracedSteps(chatID)
            #expect(queued.routingState == .queued, "trace: \(chatSteps)")
            #expect(queued.inboxId == vip.id)
            #expect(try await kit.contacts.get(chat.contactId).emails == ["vip@example.com"])

            // routing → conversations: draining the VIP queue reaches the conversation.
            _ = try await kit.routing.setAvailability(vera.id, .available)
            let drained = try await kit.conversation(chatID) { $0.assigneeId == vera.id }
            #expect(drained.assigneeId == vera.id)
            #expect(drained.routingState == .assigned)

            // contacts → routing (a hero is checked there: a known agent passes, an unknown one is 422),
            // contacts → conversations (replacing the hero moves the open conversation).
            let unknown = await ConversationKit.problem {
                try await kit.contacts.setDedicatedHero(
                    regular.contactId, DedicatedHero(type: .agent, id: "no-such-agent"))
            }
            #expect(unknown?.status == 422, "an unknown hero: \(String(describing: unknown))")
            _ = try await kit.contacts.setDedicatedHero(regular.contactId, DedicatedHero(type: .agent, id: ada.id))
            _ = try await kit.contacts.setDedicatedHero(regular.contactId, DedicatedHero(type: .agent, id: vera.id))
            let moved = try await kit.conversation(regularID) { $0.assigneeId == vera.id }
            #expect(moved.assigneeId == vera.id)
        }
    }

    static let question = "What is your email address?"

    /// Ask for a missing email, look it up, VIPs to the VIP inbox; a CRM error goes to its own inbox.
    static func askLookupWorkflow(vip: Inbox, support: Inbox, crmDown: Inbox) -> String {
        #"""
        {"start": "hasEmail", "steps": [
          {"id": "hasEmail", "type": "branch", "cases": [{"if": {"field": "contact.email", "op": "exists"}, "goto": "lookup"}],
           "else": "askEmail"},
          {"id": "askEmail", "type": "ask", "question": "\#(question)", "expect": "email", "saveTo": "contact.email",
           "maxRetries": 1, "retryMessage": "Please try again.", "successMessage": "Thanks!", "next": "lookup", "onExhausted": "regular"},
          {"id": "lookup", "type": "lookup", "by": "email", "source": "directory", "map": {"CustomerType": "$.customerType"},
           "next": "isVip", "onNotFound": "regular", "onError": "crmDown"},
          {"id": "isVip", "type": "branch", "cases": [{"if": {"field": "var.CustomerType", "op": "equals", "value": "VIP"}, "goto": "vip"}],
           "else": "regular"},
          {"id": "vip", "type": "assign", "to": {"inbox": "\#(vip.id)"}},
          {"id": "regular", "type": "assign", "to": {"inbox": "\#(support.id)"}},
          {"id": "crmDown", "type": "assign", "to": {"inbox": "\#(crmDown.id)"}}]}
        """#
    }

    // MARK: - Request ids

    /// SPEC §2: the id a request arrives with is sent on every call made for it and is on every log
    /// line. One inbound message with a lookup workflow touches all four services: conversations
    /// (inbound), contacts (resolve), routing (route, sent later from the outbox, which keeps the
    /// id) and crm-lookup (lookup, called by routing while it runs the workflow).
    @Test func oneRequestIDFollowsAnInboundMessageThroughAllFourServicesLogs() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let found = try await kit.inbox("Found")
            let crmDown = try await kit.inbox("CRM down")
            let ada = try await kit.agent("Ada", inboxes: [support.id, found.id])
            _ = try await kit.crm.upsert(CustomerInput(email: "traced@example.com", customerType: "regular"))
            try await kit.activate(
                #"""
                {"start": "lookup", "steps": [
                  {"id": "lookup", "type": "lookup", "by": "email", "source": "directory", "map": {"Type": "$.customerType"},
                   "next": "found", "onNotFound": "notFound", "onError": "crmDown"},
                  {"id": "found", "type": "assign", "to": {"inbox": "\#(found.id)"}},
                  {"id": "notFound", "type": "assign", "to": {"inbox": "\#(support.id)"}},
                  {"id": "crmDown", "type": "assign", "to": {"inbox": "\#(crmDown.id)"}}]}
                """#)

            let requestID = "deploy-trace-\(UUID().uuidString)"
            let message = InboundRequest(channel: .email, from: "traced@example.com", body: "Where is my order?")
            let response = try await cluster.raw(.conversations, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/inbound", body: try JSONCoding.encode(message), headers: [("X-Request-ID", requestID)])
            #expect(response.status == 201, "\(WorkflowKit.body(response))")
            #expect(response.header("x-request-id") == requestID)
            let result = try JSONDecoder().decode(InboundResult.self, from: Data(response.body))
            let placed = try await kit.placed(result.conversationId)
            let steps = try await kit.tracedSteps(result.conversationId)
            #expect(placed.assigneeId == ada.id)
            #expect(placed.inboxId == found.id, "trace: \(steps)")

            let expected: [(ServiceKind, method: String, route: String)] = [
                (.conversations, "POST", "/v1/inbound"), (.contacts, "POST", "/v1/contacts/resolve"),
                (.routing, "POST", "/v1/route"), (.crmLookup, "GET", "/v1/lookup"),
            ]
            func logged(_ kind: ServiceKind, _ method: String, _ route: String) throws -> Bool {
                try cluster.service(kind).logRecords.contains {
                    $0.requestID == requestID && $0["method"] == method && $0["route"] == route
                        && (200..<300).contains($0.status ?? 0)
                }
            }
            // Services write their logs in batches every 100 ms.
            _ = try await eventually(within: 5) { try expected.allSatisfy { try logged($0.0, $0.method, $0.route) } }
            for (kind, method, route) in expected {
                let lines = try cluster.service(kind).logRecords.filter { $0.requestID == requestID }.map(\.line)
                #expect(
                    try logged(kind, method, route),
                    "\(kind.rawValue): no \(method) \(route) line with \(requestID); lines with it: \(lines)")
            }
        }
    }

    // MARK: - SIGTERM under load

    /// SPEC §2: on SIGTERM a service stops accepting, finishes what is in flight (≤ 10 s) and exits
    /// 0; every inbound message answered 2xx is on disk and will be routed. Senders keep firing
    /// through the shutdown; each request either got a 2xx (then its message must be stored once
    /// and routed after a restart), or no answer at all, or 503 — never anything else.
    @Test(.timeLimit(.minutes(2)))
    func sigtermUnderLoadLosesNoAcceptedMessage() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            var agents: [String] = []
            for name in ["Ada", "Bob"] {
                agents.append(try await kit.agent(name, inboxes: [support.id], capacity: PartialCounts(email: 1000)).id)
            }
            let conversations = try cluster.service(.conversations)
            // Longer than the 10 s drain: a request the server holds must not be taken for one it dropped.
            let client = ServiceClient(
                baseURL: cluster.url(.conversations), tokens: .fixed(cluster.token(.service)), timeout: 15)
            let ledger = LoadLedger()
            let senders = 6
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for sender in 0..<senders {
                        group.addTask {
                            var index = sender
                            while !ledger.isStopped {
                                let started = Date()
                                let outcome = await Self.sendOne(index, with: client)
                                ledger.record(outcome, started: started, finished: Date())
                                if !outcome.isAccepted { try? await Task.sleep(nanoseconds: 10_000_000) }
                                index += senders
                            }
                        }
                    }
                }
            }

            let steady = await eventually(within: 20) { ledger.acceptedCount >= 60 }
            #expect(steady, "only \(ledger.acceptedCount) messages accepted before SIGTERM")
            let signalled = Date()
            let status = await conversations.stop(signal: SIGTERM, timeout: 15)
            let exitSeconds = Date().timeIntervalSince(signalled)
            let termination = conversations.termination
            // A few more sends meet the closed port, then the load stops.
            let afterExit = ledger.count
            _ = await eventually(within: 2) { ledger.count >= afterExit + senders }
            ledger.stop()
            await load.value

            #expect(termination?.reason == .exit, "conversations ended by \(String(describing: termination))")
            #expect(status == 0, "exit status \(status)")
            #expect(exitSeconds < 11, "exited \(exitSeconds) s after SIGTERM")
            let outcomes = ledger.outcomes
            // SIGTERM landed mid-load, and what the server had in hand then, it finished.
            let inFlight = ledger.spanning(signalled)
            #expect(inFlight.contains { $0.isAccepted }, "requests in flight at SIGTERM: \(inFlight)")
            let unexpected = outcomes.compactMap {
                if case .unexpected(let index, let why) = $0 { "#\(index): \(why)" } else { nil }
            }
            #expect(
                unexpected.isEmpty,
                "\(unexpected.count) requests failed otherwise than by a refused connection or 503: \(unexpected.prefix(5))"
            )
            let accepted = outcomes.compactMap(\.acceptedMessage)
            #expect(outcomes.contains { $0.isFailure }, "no request met the shutdown")

            try await conversations.start()
            // A connector's retry with the same external id finds the message the 2xx named (a lost one
            // would be stored anew, under another id).
            for message in accepted {
                let replay = try await kit.send(
                    .email, from: Self.address(message.index), body: Self.body(message.index),
                    externalId: Self.externalID(message.index))
                #expect((200..<300).contains(replay.code), "#\(message.index): replay answered \(replay.code)")
                #expect(replay.result?.conversationId == message.conversationId, "#\(message.index)")
                #expect(replay.result?.messageId == message.messageId, "#\(message.index)")
            }
            // Stored exactly once, retries included: each accepted message is the single inbound
            // message of its own conversation (every sender address is new).
            for message in accepted {
                let inbound = try await kit.messages(message.conversationId).filter { $0.direction == .inbound }
                #expect(inbound.map(\.id) == [message.messageId], "#\(message.index): stored as \(inbound.map(\.id))")
            }
            // Every accepted message ends up routed, and each stored conversation was routed once.
            let ids = Set(accepted.map(\.conversationId))
            let routed = try await eventually(within: 20) {
                try await kit.allConversations().filter { ids.contains($0.id) }.allSatisfy {
                    $0.routingState == .assigned
                }
            }
            let all = try await kit.allConversations()
            let states = Dictionary(grouping: all.filter { ids.contains($0.id) }, by: \.routingState.rawValue)
                .mapValues(\.count)
            #expect(routed, "routing states of accepted messages: \(states)")
            #expect(Set(all.map(\.id)).isSuperset(of: ids))
            var assignments = 0
            for agent in agents { assignments += try await kit.load(agent).email }
            #expect(assignments == all.filter { $0.routingState == .assigned }.count)
        }
    }

    static func address(_ index: Int) -> String { "load\(index)@example.com" }
    static func body(_ index: Int) -> String { "load message \(index)" }
    static func externalID(_ index: Int) -> String { "sigterm-\(index)" }

    /// One inbound message of the load, classified by how it ended.
    static func sendOne(_ index: Int, with client: ServiceClient) async -> LoadOutcome {
        let message = InboundRequest(
            channel: .email, from: address(index), body: body(index), externalId: externalID(index))
        guard let bytes = try? JSONCoding.encode(message) else {
            return .unexpected(index: index, why: "cannot encode")
        }
        let response: ClientResponse
        do {
            response = try await client.raw("POST", "/v1/inbound", body: bytes)
        } catch {
            switch error {
            case .unreachable(.connectFailed(let why)): return .refused(index: index, why: "connect failed: \(why)")
            case .unreachable(.connectionClosed): return .refused(index: index, why: "connection closed")
            default: return .unexpected(index: index, why: "\(error)")
            }
        }
        if response.status == 503 { return .unavailable(index: index) }
        guard (200..<300).contains(response.status),
            let result = try? JSONDecoder().decode(InboundResult.self, from: Data(response.body)),
            let conversationID = result.conversationId, let messageID = result.messageId
        else {
            return .unexpected(
                index: index, why: "\(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return .accepted(AcceptedMessage(index: index, conversationId: conversationID, messageId: messageID))
    }
}

struct AcceptedMessage: Sendable {
    var index: Int
    var conversationId: String
    var messageId: String
}

/// How one request of the load ended.
enum LoadOutcome: Sendable {
    case accepted(AcceptedMessage)
    /// No HTTP answer: the connection was refused or closed.
    case refused(index: Int, why: String)
    case unavailable(index: Int)
    /// Anything else; fails the test.
    case unexpected(index: Int, why: String)

    var acceptedMessage: AcceptedMessage? { if case .accepted(let message) = self { message } else { nil } }
    var isAccepted: Bool { acceptedMessage != nil }
    var isFailure: Bool {
        switch self {
        case .refused, .unavailable: true
        default: false
        }
    }
}

/// Every outcome of the load so far, shared by the senders, and the flag that stops them.
final class LoadLedger: Sendable {
    /// One request: how it ended, and when it was sent and answered.
    struct Attempt: Sendable {
        var outcome: LoadOutcome
        var started: Date
        var finished: Date
    }

    private let state = Mutex<(attempts: [Attempt], accepted: Int, stopped: Bool)>(([], 0, false))

    func record(_ outcome: LoadOutcome, started: Date, finished: Date) {
        state.withLock {
            $0.attempts.append(Attempt(outcome: outcome, started: started, finished: finished))
            if outcome.isAccepted { $0.accepted += 1 }
        }
    }

    /// Requests sent before `moment` and answered after it, by outcome.
    func spanning(_ moment: Date) -> [LoadOutcome] {
        state.withLock { $0.attempts.filter { $0.started < moment && $0.finished > moment }.map(\.outcome) }
    }

    func stop() { state.withLock { $0.stopped = true } }
    var isStopped: Bool { state.withLock { $0.stopped } }
    var count: Int { state.withLock { $0.attempts.count } }
    var acceptedCount: Int { state.withLock { $0.accepted } }
    var outcomes: [LoadOutcome] { state.withLock { $0.attempts.map(\.outcome) } }
}
