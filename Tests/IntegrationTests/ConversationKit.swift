import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization
import TestSupport
import Testing

/// Set-up shared by the conversations suites: a desk (inboxes, agents), inbound messages as a
/// channel connector sends them, and reads that walk every page.
struct ConversationKit: Sendable {
    let cluster: TestCluster
    /// Routing as an administrator: agents, inboxes, loads.
    let routing: RoutingClient
    /// Contacts as a team manager: blocks, merges, heroes.
    let contacts: ContactsClient
    /// Conversations as an administrator.
    let conversations: ConversationsClient
    /// Conversations as a team manager (reports, spam lists).
    let manager: ConversationsClient

    init(_ cluster: TestCluster) {
        self.cluster = cluster
        routing = cluster.routing(as: .administrator)
        contacts = cluster.contacts(as: .teamManager)
        conversations = cluster.conversations(as: .administrator)
        manager = cluster.conversations(as: .teamManager)
    }

    // MARK: - The desk

    func inbox(
        _ name: String, defaultFor: [Channel] = [], senderName: String? = nil, signature: String? = nil,
        strategy: Strategy = .roundRobin
    ) async throws -> Inbox {
        try await routing.createInbox(
            NewInbox(
                name: name, senderName: senderName, signature: signature, defaultFor: defaultFor, strategy: strategy))
    }

    /// An agent joining `inboxes` in order; its hero inbox defaults to the first.
    func agent(
        _ name: String, inboxes: [String] = [], capacity: PartialCounts? = nil, availability: Availability? = nil,
        heroInbox: String? = nil
    ) async throws -> Agent {
        try await routing.createAgent(
            NewAgent(
                name: name, email: "\(name.lowercased())@desk.example.com", availability: availability,
                inboxIds: inboxes,
                heroInboxId: heroInbox, capacity: capacity))
    }

    /// The usual desk: a "Support" inbox, default for every channel, with one agent, Ada.
    func desk(capacity: PartialCounts? = nil) async throws -> (support: Inbox, ada: Agent) {
        let support = try await inbox(
            "Support", defaultFor: Channel.allCases, senderName: "Acme Support", signature: "-- Acme")
        let ada = try await agent("Ada", inboxes: [support.id], capacity: capacity)
        return (support, ada)
    }

    /// The conversations service as this agent (token `sub` = the agent's id).
    func acting(as agent: Agent) -> ConversationsClient {
        cluster.conversations(as: .agent, sub: agent.id)
    }

    // MARK: - Inbound

    /// One answer of `POST /v1/inbound`, whatever its status.
    struct Answer: Sendable {
        var code: Int
        var body: [UInt8]

        var result: InboundResult? { try? JSONDecoder().decode(InboundResult.self, from: Data(body)) }
        var problem: Problem? { try? JSONDecoder().decode(Problem.self, from: Data(body)) }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    /// Sends one inbound message with a `service` token (or `token`) and returns the raw answer.
    func send(
        _ channel: Channel, from: String, body: String = "Hello, I need help.", name: String? = nil,
        subject: String? = nil,
        conversationId: String? = nil, externalId: String? = nil, token: String? = nil
    ) async throws -> Answer {
        let message = InboundRequest(
            channel: channel, from: from, name: name, subject: subject, body: body, conversationId: conversationId,
            externalId: externalId)
        let client = cluster.raw(.conversations, token: token ?? cluster.token(.service))
        let response = try await client.raw("POST", "/v1/inbound", body: Array(try JSONEncoder().encode(message)))
        return Answer(code: response.status, body: response.body)
    }

    /// Sends one inbound message that must be accepted with `expecting` (201 new, 200 threaded).
    func inbound(
        _ channel: Channel, from: String, body: String = "Hello, I need help.", subject: String? = nil,
        conversationId: String? = nil, externalId: String? = nil, expecting code: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> InboundResult {
        let answer = try await send(
            channel, from: from, body: body, subject: subject, conversationId: conversationId, externalId: externalId)
        if let code {
            #expect(
                answer.code == code, "inbound answered \(answer.code): \(String(decoding: answer.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        }
        return try #require(
            answer.result, "inbound answered \(answer.code): \(String(decoding: answer.body, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }

    // MARK: - Reads

    /// Every conversation matching `filters`, walking the cursor to the end.
    func allConversations(_ filters: ConversationsClient.Filters = .init(), limit: Int = 500) async throws
        -> [Conversation]
    {
        var filters = filters
        filters.limit = limit
        var items: [Conversation] = []
        var pages = 0
        repeat {
            let page = try await conversations.conversations(filters)
            items += page.items
            filters.cursor = page.nextCursor
            pages += 1
        } while filters.cursor != nil && pages < 1000
        return items
    }

    /// Every message of a conversation, oldest first, walking the cursor to the end.
    func messages(_ conversationID: String) async throws -> [Message] {
        var items: [Message] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await conversations.messages(conversationID, limit: 500, cursor: cursor)
            items += page.items
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 1000
        return items
    }

    func load(_ agentID: String) async throws -> ChannelCounts {
        try await routing.agent(agentID).load
    }

    /// Re-reads the conversation until `condition` holds or `seconds` pass; returns the last read.
    func conversation(
        _ id: String, within seconds: Double = 10, until condition: (Conversation) -> Bool
    ) async throws -> Conversation {
        let deadline = Date().addingTimeInterval(seconds)
        var current = try await conversations.conversation(id)
        while !condition(current) && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            current = try await conversations.conversation(id)
        }
        return current
    }

    /// The conversation an inbound message went to, once routing's decision has reached it.
    /// The answer itself may still say `pending` (see `inboundAnswerCarriesRoutingsDecision`);
    /// tests about other behaviour read the settled state through this.
    func routed(
        _ result: InboundResult, within seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Conversation {
        let id = try #require(result.conversationId, sourceLocation: sourceLocation)
        let conversation = try await conversation(id, within: seconds) { $0.routingState != .pending }
        #expect(conversation.routingState != .pending, "never routed: \(id)", sourceLocation: sourceLocation)
        return conversation
    }

    // MARK: - Helpers

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
}

/// A counter shared by concurrent tasks.
final class SharedCounter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var current: Int { value.withLock { $0 } }
}
