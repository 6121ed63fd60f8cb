import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// `PUT /v1/workflow` checks a document whole before it becomes a version (SPEC §5): every problem
/// is a 422 naming its step in `errors[].field`; good documents are numbered 1, 2, …; templates.
@Suite struct WorkflowValidationTests {
    /// A document that must be refused. `{agent}`, `{inbox}` and `{queue}` become real ids.
    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var document: String
        /// The step ids (or `start`) that may be named; at least one of them must be.
        var fields: [String]
        var testDescription: String { name }
    }

    static let done = #"{"id": "done", "type": "assign", "to": {"inbox": "{inbox}"}}"#

    static let invalid: [Invalid] = [
        Invalid(
            name: "unknown step type",
            document: #"{"start": "s", "steps": [{"id": "s", "type": "teleport", "next": "done"}, \#(done)]}"#,
            fields: ["s"]),
        Invalid(
            name: "unknown field on a step",
            document:
                #"{"start": "greet", "steps": [{"id": "greet", "type": "reply", "body": "Hi", "next": "done", "colour": "red"}, \#(done)]}"#,
            fields: ["greet"]),
        Invalid(
            name: "goto to a missing step",
            document: #"""
                {"start": "check", "steps": [
                  {"id": "check", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "email"}, "goto": "nowhere"}], "else": "done"},
                  \#(done)]}
                """#,
            fields: ["check"]),
        Invalid(
            name: "else to a missing step",
            document: #"""
                {"start": "check", "steps": [
                  {"id": "check", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "email"}, "goto": "done"}], "else": "nowhere"},
                  \#(done)]}
                """#,
            fields: ["check"]),
        Invalid(
            name: "next to a missing step",
            document:
                #"{"start": "greet", "steps": [{"id": "greet", "type": "reply", "body": "Hi", "next": "nowhere"}, \#(done)]}"#,
            fields: ["greet"]),
        Invalid(
            name: "onExhausted to a missing step",
            document: #"""
                {"start": "ask", "steps": [
                  {"id": "ask", "type": "ask", "question": "Email?", "expect": "email", "saveTo": "contact.email", "next": "done", "onExhausted": "nowhere"},
                  \#(done)]}
                """#,
            fields: ["ask"]),
        Invalid(
            name: "missing start",
            document: #"{"steps": [\#(done)]}"#,
            fields: ["start"]),
        Invalid(
            name: "start naming no step",
            document: #"{"start": "ghost", "steps": [\#(done)]}"#,
            fields: ["start"]),
        Invalid(
            name: "an unreachable step",
            document:
                #"{"start": "done", "steps": [\#(done), {"id": "orphan", "type": "reply", "body": "Nobody reads this", "next": "done"}]}"#,
            fields: ["orphan"]),
        Invalid(
            name: "two branches pointing at each other",
            document: #"""
                {"start": "a", "steps": [
                  {"id": "a", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "email"}, "goto": "b"}], "else": "done"},
                  {"id": "b", "type": "branch", "cases": [{"if": {"field": "message.body", "op": "contains", "value": "x"}, "goto": "a"}], "else": "done"},
                  \#(done)]}
                """#,
            fields: ["a", "b"]),
        Invalid(
            name: "a reply and a tag step in a ring",
            document: #"""
                {"start": "r", "steps": [
                  {"id": "r", "type": "reply", "body": "Again", "next": "t"},
                  {"id": "t", "type": "tag", "tags": ["again"], "next": "r"}]}
                """#,
            fields: ["r", "t"]),
        Invalid(
            name: "unknown agent id",
            document:
                #"{"start": "toAgent", "steps": [{"id": "toAgent", "type": "assign", "to": {"agent": "no-such-agent"}}]}"#,
            fields: ["toAgent"]),
        Invalid(
            name: "unknown inbox id",
            document:
                #"{"start": "toInbox", "steps": [{"id": "toInbox", "type": "assign", "to": {"inbox": "no-such-inbox", "strategy": "least_busy"}}]}"#,
            fields: ["toInbox"]),
        Invalid(
            name: "unknown queue id",
            document:
                #"{"start": "toQueue", "steps": [{"id": "toQueue", "type": "assign", "to": {"queue": "no-such-queue"}}]}"#,
            fields: ["toQueue"]),
        Invalid(
            name: "unknown condition field",
            document: #"""
                {"start": "check", "steps": [
                  {"id": "check", "type": "branch", "cases": [{"if": {"field": "contact.shoeSize", "op": "equals", "value": "42"}, "goto": "done"}], "else": "done"},
                  \#(done)]}
                """#,
            fields: ["check"]),
        Invalid(
            name: "unknown condition op",
            document: #"""
                {"start": "check", "steps": [
                  {"id": "check", "type": "branch", "cases": [{"if": {"field": "channel", "op": "resembles", "value": "email"}, "goto": "done"}], "else": "done"},
                  \#(done)]}
                """#,
            fields: ["check"]),
    ]

    /// Routing alone, with one inbox, one agent and one queue to point at.
    struct Desk {
        var inbox: Inbox
        var agent: Agent
        var queue: Queue

        func fill(_ document: String) -> String {
            document.replacingOccurrences(of: "{inbox}", with: inbox.id).replacingOccurrences(
                of: "{agent}", with: agent.id
            )
            .replacingOccurrences(of: "{queue}", with: queue.id)
        }
    }

    static func desk(_ kit: WorkflowKit) async throws -> Desk {
        let inbox = try await kit.inbox("Support", defaultFor: Channel.allCases)
        let agent = try await kit.agent("Ada", inboxes: [inbox.id])
        let queue = try await kit.routing.createQueue(NewQueue(name: "Priority", inboxId: inbox.id, priority: 10))
        return Desk(inbox: inbox, agent: agent, queue: queue)
    }

    static func versions(_ kit: WorkflowKit) async throws -> [Int] {
        let response = try await kit.cluster.raw(.routing, token: kit.cluster.token(.agent)).raw(
            "GET", "/v1/workflow/versions")
        #expect(response.status == 200)
        return try JSONDecoder().decode(Page<WorkflowKit.SavedVersion>.self, from: Data(response.body)).items.map(
            \.version)
    }

    @Test(arguments: invalid)
    func invalidDocumentIs422NamingTheStep(_ invalid: Invalid) async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.desk(kit)
            let response = try await kit.put(desk.fill(invalid.document))
            #expect(response.status == 422, "\(invalid.name): \(WorkflowKit.body(response))")
            #expect(response.header("content-type") == "application/problem+json")
            let problem = try #require(WorkflowKit.problem(response), "\(invalid.name): no problem document")
            let fields = (problem.errors ?? []).map(\.field)
            #expect(
                fields.contains { invalid.fields.contains($0) },
                "\(invalid.name): errors name \(fields), expected one of \(invalid.fields)")
            // A refused document is not a version: default routing still applies.
            #expect(try await Self.versions(kit).isEmpty)
            let active = try await cluster.raw(.routing, token: cluster.token(.agent)).raw("GET", "/v1/workflow")
            #expect(active.status == 404)
        }
    }

    @Test func loopThroughAnAskIsAccepted() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.desk(kit)
            let document = #"""
                {"start": "ask", "steps": [
                  {"id": "ask", "type": "ask", "question": "Shall we call you back? (yes/no)", "saveTo": "var.Answer",
                   "maxRetries": 2, "next": "check", "onExhausted": "done"},
                  {"id": "check", "type": "branch", "cases": [{"if": {"field": "var.Answer", "op": "equals", "value": "yes"}, "goto": "done"}], "else": "ask"},
                  {"id": "done", "type": "assign", "to": {"inbox": "{inbox}"}}]}
                """#
            let response = try await kit.put(desk.fill(document))
            #expect(response.status == 200, "\(WorkflowKit.body(response))")
        }
    }

    @Test func validDocumentsBecomeNumberedVersionsAndTheNewestIsActive() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.desk(kit)
            let first = desk.fill(
                #"{"start": "done", "steps": [{"id": "done", "type": "assign", "to": {"inbox": "{inbox}"}}]}"#)
            let second = desk.fill(
                #"""
                {"start": "route", "steps": [
                  {"id": "route", "type": "branch", "cases": [
                    {"if": {"field": "channel", "op": "in", "value": ["voice", "voicemail"]}, "goto": "phones"},
                    {"if": {"all": [{"field": "contact.tag", "op": "equals", "value": "vip"}, {"not": {"dedicatedHero": "assigned"}}]}, "goto": "ada"}],
                   "else": "hero"},
                  {"id": "phones", "type": "assign", "to": {"queue": "{queue}"}},
                  {"id": "ada", "type": "assign", "to": {"agent": "{agent}"}},
                  {"id": "hero", "type": "assign", "to": "dedicatedHero"}]}
                """#)
            for (document, expected) in [(first, 1), (second, 2)] {
                let response = try await kit.put(document)
                #expect(response.status == 200, "\(WorkflowKit.body(response))")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
                #expect(body["version"] as? Int == expected)
            }
            let active = try await cluster.raw(.routing, token: cluster.token(.agent)).raw("GET", "/v1/workflow")
            #expect(active.status == 200)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(active.body)) as? [String: Any])
            #expect(object["version"] as? Int == 2)
            #expect(object["start"] as? String == "route")
            let steps = try #require(object["steps"] as? [[String: Any]])
            #expect(steps.compactMap { $0["id"] as? String } == ["route", "phones", "ada", "hero"])
            #expect(try await Self.versions(kit) == [2, 1])
            // The list is paged like every other (SPEC §2): one version a page, newest first.
            let reader = cluster.raw(.routing, token: cluster.token(.agent))
            let page = try await reader.raw("GET", "/v1/workflow/versions?limit=1")
            let firstPage = try JSONDecoder().decode(Page<WorkflowKit.SavedVersion>.self, from: Data(page.body))
            #expect(firstPage.items.map(\.version) == [2])
            let cursor = try #require(firstPage.nextCursor)
            let next = try await reader.raw("GET", "/v1/workflow/versions?limit=1&cursor=\(cursor)")
            let secondPage = try JSONDecoder().decode(Page<WorkflowKit.SavedVersion>.self, from: Data(next.body))
            #expect(secondPage.items.map(\.version) == [1])
            #expect(secondPage.nextCursor == nil)
            #expect(try await reader.raw("GET", "/v1/workflow/versions?limit=501").status == 400)
        }
    }

    @Test func onlyAnAdministratorMaySaveAWorkflowButAgentsMayReadIt() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let desk = try await Self.desk(kit)
            let document = desk.fill(
                #"{"start": "done", "steps": [{"id": "done", "type": "assign", "to": {"inbox": "{inbox}"}}]}"#)
            #expect(try await kit.put(document, token: cluster.token(.agent, sub: desk.agent.id)).status == 403)
            #expect(try await kit.put(document, token: cluster.token(.teamManager)).status == 403)
            #expect(try await Self.versions(kit).isEmpty)
            #expect(try await kit.put(document).status == 200)
            let agent = cluster.raw(.routing, token: cluster.token(.agent, sub: desk.agent.id))
            #expect(try await agent.raw("GET", "/v1/workflow").status == 200)
            #expect(try await agent.raw("GET", "/v1/workflow/versions").status == 200)
            #expect(try await cluster.raw(.routing).raw("GET", "/v1/workflow").status == 401)
        }
    }

    // MARK: - Templates

    @Test func templatesAreListedWithDescriptionsAndPlaceholders() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let templates = try await kit.templates()
            #expect(Set(templates.map(\.name)) == ["vip-routing", "dedicated-hero-rules", "loyalty-priority-queues"])
            for template in templates {
                #expect(!template.description.isEmpty, "\(template.name)")
                #expect(!template.placeholders.isEmpty, "\(template.name)")
                #expect(template.placeholders.allSatisfy { !$0.description.isEmpty }, "\(template.name)")
                // Every placeholder is used in the workflow, and every `<...>` in it is a listed placeholder.
                let used = Self.strings(in: template.workflow).filter { $0.hasPrefix("<") && $0.hasSuffix(">") }
                #expect(used == Set(template.placeholders.map(\.placeholder)), "\(template.name)")
                // As shipped (placeholders are not ids) a template is refused.
                let shipped = try await kit.put(try WorkflowKit.text(template.workflow))
                #expect(shipped.status == 422, "\(template.name) as shipped answered \(shipped.status)")
            }
        }
    }

    @Test func everyTemplateWithItsPlaceholdersFilledIsAccepted() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: [.email, .messaging, .voicemail])
            let vip = try await kit.inbox("VIP", strategy: .leastBusy)
            let heroes = try await kit.inbox("Heroes")
            let phones = try await kit.inbox("Phones", defaultFor: [.voice])
            let manager = try await kit.agent("Maria", inboxes: [support.id])
            let priority = try await kit.routing.createQueue(
                NewQueue(name: "Priority", inboxId: phones.id, priority: 10))
            let standard = try await kit.routing.createQueue(
                NewQueue(name: "Standard", inboxId: phones.id, priority: 5))
            let general = try await kit.routing.createQueue(NewQueue(name: "General", inboxId: phones.id, priority: 1))
            let ids = [
                "<vip inbox id>": vip.id, "<support inbox id>": support.id, "<manager agent id>": manager.id,
                "<hero team inbox id>": heroes.id, "<priority queue id>": priority.id,
                "<standard queue id>": standard.id,
                "<general queue id>": general.id,
            ]
            var expected = 0
            for template in try await kit.templates() {
                let missing = template.placeholders.map(\.placeholder).filter { ids[$0] == nil }
                #expect(missing.isEmpty, "\(template.name) has placeholders this test does not know: \(missing)")
                let response = try await kit.put(
                    try WorkflowKit.text(WorkflowKit.replacing(ids, in: template.workflow)))
                expected += 1
                #expect(response.status == 200, "\(template.name): \(WorkflowKit.body(response))")
                let saved = try? JSONDecoder().decode(WorkflowKit.SavedVersion.self, from: Data(response.body))
                #expect(saved?.version == expected, "\(template.name)")
            }
            #expect(expected == 3)
        }
    }

    /// The templates list pages like every list, and the served document says its `nextCursor` (and the
    /// versions list's) is a cursor until the last page — it said both were always `null`.
    @Test func workflowListsPageAndTheDocumentSaysTheirCursorIsOne() async throws {
        try await withServices([.routing]) { cluster in
            let reader = cluster.raw(.routing, token: cluster.token(.agent))
            var names: [String] = []
            var cursor: String?
            repeat {
                let query = "?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await reader.raw("GET", "/v1/workflow/templates" + query)
                let page = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
                names += ((page["items"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
                cursor = page["nextCursor"] as? String
                #expect(cursor != nil || page["nextCursor"] is NSNull)
            } while cursor != nil && names.count < 10
            #expect(names == ["vip-routing", "dedicated-hero-rules", "loyalty-priority-queues"])
            #expect(try await reader.raw("GET", "/v1/workflow/templates?cursor=nope").status == 400)

            let document = try await cluster.raw(.routing).raw("GET", "/openapi.json")
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(document.body))
            let schemas = json.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
            for page in ["WorkflowTemplatePage", "WorkflowVersionPage"] {
                let nextCursor = schemas?[page]?.objectValue?["properties"]?.objectValue?["nextCursor"]?.objectValue
                #expect(nextCursor?["type"] == .array([.string("string"), .string("null")]), "\(page)")
            }
        }
    }

    static func strings(in json: JSONValue) -> Set<String> {
        switch json {
        case .string(let text): [text]
        case .array(let items): items.reduce(into: []) { $0.formUnion(strings(in: $1)) }
        case .object(let object): object.values.reduce(into: []) { $0.formUnion(strings(in: $1)) }
        default: []
        }
    }
}
