import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Set-up shared by the workflow suites (SPEC §5 "The routing workflow"): the desk in routing,
/// workflow documents sent as JSON text, inbound messages as a channel connector sends them, and
/// reads of where a conversation went and why.
struct WorkflowKit: Sendable {
    let cluster: TestCluster
    /// Routing as an administrator: agents, inboxes, queues, decisions.
    let routing: RoutingClient
    /// Contacts as an administrator: presets, heroes, reading saved answers.
    let contacts: ContactsClient
    /// Conversations as an administrator: reads, closes.
    let conversations: ConversationsClient
    /// The CRM-lookup service as an administrator: directory entries and sources.
    let crm: CRMLookupClient

    init(_ cluster: TestCluster) {
        self.cluster = cluster
        routing = cluster.routing(as: .administrator)
        contacts = cluster.contacts(as: .administrator)
        conversations = cluster.conversations(as: .administrator)
        crm = cluster.crmLookup(as: .administrator)
    }

    // MARK: - The desk

    func inbox(_ name: String, defaultFor: [Channel] = [], strategy: Strategy = .roundRobin) async throws -> Inbox {
        try await routing.createInbox(NewInbox(name: name, defaultFor: defaultFor, strategy: strategy))
    }

    /// An agent with room for many conversations on every channel unless `capacity` says otherwise.
    func agent(
        _ name: String, inboxes: [String] = [], availability: Availability? = nil, capacity: PartialCounts? = nil
    ) async throws -> Agent {
        try await routing.createAgent(
            NewAgent(
                name: name, email: "\(name.lowercased())@desk.example.com", availability: availability,
                inboxIds: inboxes,
                capacity: capacity ?? PartialCounts(email: 50, messaging: 50, voice: 50, voicemail: 50)))
    }

    // MARK: - Workflow documents

    /// `PUT /v1/workflow` with `document` as the body, as an administrator unless `token` says otherwise.
    func put(_ document: String, token: String? = nil) async throws -> ClientResponse {
        try await cluster.raw(.routing, token: token ?? cluster.token(.administrator))
            .raw("PUT", "/v1/workflow", body: Array(document.utf8))
    }

    /// Saves `document` as the active workflow; records an issue unless routing answers 200.
    @discardableResult
    func activate(_ document: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let response = try await put(document)
        #expect(
            response.status == 200, "PUT /v1/workflow answered \(response.status): \(Self.body(response))",
            sourceLocation: sourceLocation)
        let saved = try JSONDecoder().decode(SavedVersion.self, from: Data(response.body))
        return saved.version
    }

    struct SavedVersion: Codable, Sendable {
        var version: Int
    }

    func templates() async throws -> [WorkflowTemplate] {
        let response = try await cluster.raw(.routing, token: cluster.token(.agent)).raw(
            "GET", "/v1/workflow/templates")
        #expect(
            response.status == 200, "GET /v1/workflow/templates answered \(response.status): \(Self.body(response))")
        return try JSONDecoder().decode(Page<WorkflowTemplate>.self, from: Data(response.body)).items
    }

    /// The named template's workflow with each `<placeholder>` replaced by a real id, as JSON text.
    func template(_ name: String, filling values: [String: String]) async throws -> String {
        let template = try #require(try await templates().first { $0.name == name }, "no template named \(name)")
        return try Self.text(Self.replacing(values, in: template.workflow))
    }

    static func replacing(_ values: [String: String], in json: JSONValue) -> JSONValue {
        switch json {
        case .string(let text): .string(values[text] ?? text)
        case .array(let items): .array(items.map { replacing(values, in: $0) })
        case .object(let object): .object(object.mapValues { replacing(values, in: $0) })
        default: json
        }
    }

    static func text(_ json: JSONValue) throws -> String {
        String(decoding: try JSONCoding.encode(json), as: UTF8.self)
    }

    // MARK: - Inbound

    /// Sends one inbound message with a `service` token; the answer must be 2xx.
    func send(
        _ channel: Channel, from: String, body: String = "Hello, I need help.", name: String? = nil,
        subject: String? = nil, conversationId: String? = nil
    ) async throws -> InboundResult {
        try await cluster.conversations(as: .service).inbound(
            InboundRequest(
                channel: channel, from: from, name: name, subject: subject, body: body, conversationId: conversationId))
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

    /// The conversation once routing has decided about it (no longer `pending`).
    func placed(_ id: String?, within seconds: Double = 10) async throws -> Conversation {
        let id = try #require(id, "the inbound answer carried no conversation id")
        return try await conversation(id, within: seconds) { $0.routingState != .pending }
    }

    /// Bodies of the automation messages stored on the conversation, oldest first.
    func automationMessages(_ conversationID: String?) async throws -> [String] {
        let id = try #require(conversationID)
        var items: [Message] = []
        var cursor: String?
        repeat {
            let page = try await conversations.messages(id, limit: 500, cursor: cursor)
            items += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return items.filter { $0.author.type == .automation && $0.direction == .outbound }.map(\.body)
    }

    /// `GET /v1/routes/{id}`: the latest decision and its trace.
    func decision(_ conversationID: String?) async throws -> RouteResult {
        try await routing.decision(try #require(conversationID))
    }

    /// The step names of the latest decision's trace.
    func tracedSteps(_ conversationID: String?) async throws -> [String] {
        try await decision(conversationID).trace.map(\.step)
    }

    // MARK: - Helpers

    /// The body as text, for failure messages.
    static func body(_ response: ClientResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func problem(_ response: ClientResponse) -> Problem? {
        try? JSONDecoder().decode(Problem.self, from: Data(response.body))
    }
}
