import Clients
import Models
import Testing

@testable import RoutingService

/// `WorkflowParser` checks documents of any length without recursion; the runner runs such a version.
@Suite struct WorkflowParserTests {
    static let inbox = "inbox-1"
    static let known = WorkflowParser.Known(agents: [], inboxes: [inbox], queues: [])

    /// `count` tag steps `t0` → `t1` → … each to the next, the last to `next`.
    static func chain(_ count: Int, then next: String = "done") -> [JSONValue] {
        (0..<count).map { index in
            .object([
                "id": .string("t\(index)"), "type": .string("tag"), "tags": .array([.string("seen")]),
                "next": .string(index + 1 < count ? "t\(index + 1)" : next),
            ])
        }
    }

    static let done = JSONValue.object(["id": .string("done"), "type": .string("assign"), "to": .object(["inbox": .string(inbox)])])

    static func document(start: String = "t0", _ steps: [JSONValue]) -> JSONValue {
        .object(["start": .string(start), "steps": .array(steps)])
    }

    /// A branch step `b` whose one case holds `condition`, going to `done` either way.
    static func branch(_ condition: JSONValue, id: String = "b", then next: String = "done") -> JSONValue {
        .object([
            "id": .string(id), "type": .string("branch"),
            "cases": .array([.object(["if": condition, "goto": .string(next)])]), "else": .string(next),
        ])
    }

    static let channelIsEmail = JSONValue.object(["field": .string("channel"), "op": .string("equals"), "value": .string("email")])

    /// `condition` inside `levels - 1` `not`s: `levels` deep.
    static func nested(_ levels: Int, _ condition: JSONValue = channelIsEmail) -> JSONValue {
        (1..<levels).reduce(condition) { inner, _ in .object(["not": inner]) }
    }

    static func problem(_ body: () throws -> Void) -> Problem? {
        do {
            try body()
            return nil
        } catch {
            return error as? Problem
        }
    }

    // MARK: - Any length, no recursion

    @Test func aStoredChainOfAHundredThousandStepsIsCheckedAndRunsItsFirstHundred() async throws {
        // Checked depth first, a chain is as deep as it is long: by recursion this overflowed any stack.
        let document = try WorkflowParser.parse(Self.document(Self.chain(100_000) + [Self.done]), known: nil)
        #expect(document.steps.count == 100_001)
        #expect(document.step("t99999")?.successors == ["done"])

        let runner = WorkflowRunner(
            crm: CRMLookupClient(baseURL: "http://127.0.0.1:9", tokens: nil), contacts: ContactsClient(baseURL: "http://127.0.0.1:9", tokens: nil))
        let context = WorkflowContext(contact: RouteContact(id: "contact-1"), channel: .email, messageBody: "Hi", variables: [:])
        let result = await runner.start(document, version: 1, context: context)
        #expect(result.outcome == .fallback)
        #expect(result.tags.count == WorkflowRunner.stepLimit)
        #expect(result.trace.last?.outcome == "stopped after \(WorkflowRunner.stepLimit) steps; default routing")
    }

    @Test func aLongRingWithoutAnAskIsStillALoop() {
        let ring = Self.chain(50_000, then: "t0")
        let problem = Self.problem { _ = try WorkflowParser.parse(Self.document(ring), known: nil) }
        #expect(problem?.status == 422)
        #expect(problem?.errors?.map(\.field) == ["t0"])
        #expect(problem?.errors?.first?.message == "t0 is part of a loop that passes no ask step.")
    }

    @Test func aLongChainThroughAnAskBackToTheStartIsNoLoop() throws {
        var steps = Self.chain(20_000, then: "ask")
        steps.append(
            .object([
                "id": .string("ask"), "type": .string("ask"), "question": .string("Again?"), "saveTo": .string("var.Answer"),
                "next": .string("t0"),
            ]))
        let document = try WorkflowParser.parse(Self.document(steps), known: nil)
        #expect(document.steps.count == 20_001)
    }
}
