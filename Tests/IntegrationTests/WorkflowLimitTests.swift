import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

@testable import Storage

/// Nothing an administrator saves may crash routing: `PUT /v1/workflow` holds a new workflow to 500
/// steps, conditions nested at most 32 deep and 64 KiB of conditions (422 naming the limit, the active
/// workflow unchanged); the largest accepted one runs and survives a restart; and a version stored
/// before the limits, however large, neither stops routing from starting nor crashes a decision.
@Suite struct WorkflowLimitTests {
    /// `count` tag steps `t0` → `t1` → …, the last going to `next`.
    static func chain(_ count: Int, then next: String = "done") -> [String] {
        (0..<count).map { index in
            #"{"id": "t\#(index)", "type": "tag", "tags": ["seen"], "next": "\#(index + 1 < count ? "t\(index + 1)" : next)"}"#
        }
    }

    static func done(_ inbox: String) -> String { #"{"id": "done", "type": "assign", "to": {"inbox": "\#(inbox)"}}"# }

    static func document(start: String = "t0", _ steps: [String]) -> String {
        #"{"start": "\#(start)", "steps": [\#(steps.joined(separator: ", "))]}"#
    }

    /// `channel equals email` inside `levels - 1` `not`s: `levels` deep, true when `levels` is odd.
    static func nested(_ levels: Int) -> String {
        let test = #"{"field": "channel", "op": "equals", "value": "email"}"#
        return String(repeating: #"{"not": "#, count: levels - 1) + test + String(repeating: "}", count: levels - 1)
    }

    static func branch(_ id: String, _ condition: String, then next: String) -> String {
        #"{"id": "\#(id)", "type": "branch", "cases": [{"if": \#(condition), "goto": "\#(next)"}], "else": "\#(next)"}"#
    }

    static func route(_ conversationID: String, event: RouteEvent = .new, body: String = "Hello") -> RouteRequest {
        RouteRequest(
            conversationId: conversationID, event: event, channel: .email,
            contact: RouteContact(id: "contact-\(conversationID)"),
            message: RouteMessage(id: "message-\(UUID().uuidString)", body: body))
    }

    static func activeVersion(_ cluster: TestCluster) async throws -> Int? {
        let response = try await cluster.raw(.routing, token: cluster.token(.agent)).raw("GET", "/v1/workflow")
        guard response.status == 200 else { return nil }
        return try JSONDecoder().decode(WorkflowKit.SavedVersion.self, from: Data(response.body)).version
    }

    // MARK: - New documents

    @Test func aWorkflowOverALimitIs422NamingItAndTheActiveOneStays() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let inbox = try await kit.inbox("Support", defaultFor: Channel.allCases)
            try await kit.activate(Self.document(start: "done", [Self.done(inbox.id)]))

            let refused: [(name: String, document: String, field: String, limit: String)] = [
                (
                    "2,000 tag steps", Self.document(Self.chain(2_000) + [Self.done(inbox.id)]), "steps",
                    "at most 500 steps"
                ),
                ("501 steps", Self.document(Self.chain(500) + [Self.done(inbox.id)]), "steps", "at most 500 steps"),
                (
                    "a condition 33 deep",
                    Self.document(start: "b", [Self.branch("b", Self.nested(33), then: "done"), Self.done(inbox.id)]),
                    "b", "at most 32 levels"
                ),
                (
                    "70 KB of conditions",
                    Self.document(
                        start: "b0",
                        (0..<70).map { index in
                            Self.branch(
                                "b\(index)",
                                #"{"field": "message.body", "op": "contains", "value": "\#(String(repeating: "x", count: 1_000))"}"#,
                                then: index < 69 ? "b\(index + 1)" : "done")
                        } + [Self.done(inbox.id)]),
                    "steps", "at most 65536 bytes (64 KiB)"
                ),
            ]
            for (name, document, field, limit) in refused {
                let response = try await kit.put(document)
                #expect(response.status == 422, "\(name): \(WorkflowKit.body(response))")
                #expect(response.header("content-type") == "application/problem+json", "\(name)")
                let problem = try #require(WorkflowKit.problem(response), "\(name): no problem document")
                let error = try #require(
                    problem.errors?.first { $0.field == field }, "\(name): \(problem.errors ?? [])")
                #expect(error.message.contains(limit), "\(name): \(error.message)")
                // Refused: still version 1, and routing still answers.
                #expect(try await Self.activeVersion(cluster) == 1, "\(name)")
                #expect(try await WorkflowValidationTests.versions(kit) == [1], "\(name)")
            }
            let decision = try await cluster.routing(as: .service).route(Self.route("after-refusals"))
            #expect(decision.inboxId == inbox.id)
            #expect(try cluster.service(.routing).isRunning)
        }
    }

    @Test func theLargestWorkflowIsSavedRunsAndSurvivesARestart() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let inbox = try await kit.inbox("Support", defaultFor: Channel.allCases)
            // 500 steps: a branch on a condition 32 deep, 498 tag steps, the assign.
            let steps = [Self.branch("b", Self.nested(32), then: "t0")] + Self.chain(498) + [Self.done(inbox.id)]
            let version = try await kit.activate(Self.document(start: "b", steps))
            #expect(version == 1)

            let routing = cluster.routing(as: .service)
            let first = try await routing.route(Self.route("largest-1"))
            // A run stops after 100 steps (SPEC §5), so default routing places it.
            #expect(first.trace.contains { $0.outcome == "stopped after 100 steps; default routing" }, "\(first.trace)")
            #expect(first.inboxId == inbox.id)
            #expect(first.tags.count == 99)

            let service = try cluster.service(.routing)
            await service.stop()
            try await service.start()
            let second = try await routing.route(Self.route("largest-2"))
            #expect(second.trace.contains { $0.outcome == "stopped after 100 steps; default routing" })
            #expect(try await Self.activeVersion(cluster) == 1)
            #expect(service.isRunning)
        }
    }

    @Test func theServedOpenAPIDocumentStatesTheLimits() async throws {
        try await withServices([.routing]) { cluster in
            let response = try await cluster.raw(.routing).raw("GET", "/openapi.json")
            #expect(response.status == 200)
            let document = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
            let schemas = document.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
            let steps = schemas?["Workflow"]?.objectValue?["properties"]?.objectValue?["steps"]?.objectValue
            #expect(steps?["maxItems"] == .number(500))
            let put = document.objectValue?["paths"]?.objectValue?["/v1/workflow"]?.objectValue?["put"]?.objectValue
            let description = put?["description"]?.stringValue ?? ""
            for limit in ["**500 steps**", "**32 levels**", "**65,536 bytes (64 KiB)**"] {
                #expect(description.contains(limit), "PUT /v1/workflow does not state \(limit)")
            }
        }
    }

    // MARK: - Stored before the limits

    @Test func aStoredWorkflowOverTheLimitsStartsAndRoutesWithoutCrashing() async throws {
        try await withServices([.routing]) { cluster in
            let kit = WorkflowKit(cluster)
            let inbox = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let service = try cluster.service(.routing)
            await service.stop()

            // As an earlier routing accepted them: version 1 asks, then branches on a condition as deep
            // as JSON allows (512 levels, 5 of them the document's) and runs 3,000 tag steps; a
            // conversation waits at its ask. Version 2, active, is 5,000 tag steps.
            let paused = Self.document(
                start: "ask",
                [
                    #"{"id": "ask", "type": "ask", "question": "Anything else?", "saveTo": "var.Answer", "next": "b"}"#,
                    Self.branch("b", Self.nested(507), then: "t0"),
                ] + Self.chain(3_000) + [Self.done(inbox.id)])
            let active = Self.document(Self.chain(5_000) + [Self.done(inbox.id)])
            let run = #"""
                {"version": 1, "step": "ask", "attempts": 0,
                 "context": {"contact": {"id": "contact-waiting"}, "channel": "email", "messageBody": "Hello", "variables": {}}}
                """#
            do {
                let connection = try Connection(
                    path: service.databasePath, readOnly: false, busyTimeoutMilliseconds: 2000)
                for (version, document) in [(1, paused), (2, active)] {
                    try connection.run(
                        "INSERT INTO workflows (version, document, created_at) VALUES (?, ?, ?)", version,
                        SQLValue.blob(Array(document.utf8)),
                        "2026-01-0\(version)T00:00:00.000Z")
                }
                try connection.run(
                    "INSERT INTO workflow_runs (conversation_id, run, updated_at) VALUES (?, ?, ?)", "waiting",
                    SQLValue.blob(Array(run.utf8)),
                    "2026-01-01T00:00:00.000Z")
            }

            try await service.start()
            let routing = cluster.routing(as: .service)
            let fresh = try await routing.route(Self.route("fresh"))
            #expect(fresh.trace.first { $0.step == "workflow" }?.outcome == "version 2 starts at t0")
            #expect(fresh.trace.contains { $0.outcome == "stopped after 100 steps; default routing" })
            #expect(fresh.inboxId == inbox.id)

            // The waiting conversation answers: version 1 resumes through the deep condition.
            let resumed = try await routing.route(Self.route("waiting", event: .message, body: "No, thanks"))
            #expect(resumed.trace.contains { $0.step == "b" && $0.outcome == "case 1 holds → t0" }, "\(resumed.trace)")
            #expect(resumed.trace.contains { $0.outcome == "stopped after 100 steps; default routing" })
            #expect(resumed.inboxId == inbox.id)
            #expect(service.isRunning)
            #expect(try await Self.activeVersion(cluster) == 2)

            // And it is replaced like any other.
            #expect(try await kit.activate(Self.document(start: "done", [Self.done(inbox.id)])) == 3)
            #expect(
                try await routing.route(Self.route("after-replace")).trace.contains {
                    $0.outcome == "version 3 starts at done"
                })
        }
    }
}
