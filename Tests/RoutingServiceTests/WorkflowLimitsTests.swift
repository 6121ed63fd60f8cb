import ConciergeClients
import ConciergeJSON
import ConciergeModels
import Testing

@testable import RoutingService

/// `WorkflowParser` checks documents of any length without recursion, and holds new documents to
/// their size limits while still reading stored versions of any size; the runner runs such a version.
@Suite struct WorkflowLimitsTests {
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

    static let done = JSONValue.object([
        "id": .string("done"), "type": .string("assign"), "to": .object(["inbox": .string(inbox)]),
    ])

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

    static let channelIsEmail = JSONValue.object([
        "field": .string("channel"), "op": .string("equals"), "value": .string("email"),
    ])

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
            crm: CRMLookupClient(baseURL: "http://127.0.0.1:9", tokens: nil),
            contacts: ContactsClient(baseURL: "http://127.0.0.1:9", tokens: nil))
        let context = WorkflowContext(
            contact: RouteContact(id: "contact-1"), channel: .email, messageBody: "Hi", variables: [:])
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
                "id": .string("ask"), "type": .string("ask"), "question": .string("Again?"),
                "saveTo": .string("var.Answer"),
                "next": .string("t0"),
            ]))
        let document = try WorkflowParser.parse(Self.document(steps), known: nil)
        #expect(document.steps.count == 20_001)
    }

    // MARK: - Size limits of new documents

    @Test func aNewWorkflowHasAtMost500Steps() throws {
        let largest = Self.document(Self.chain(WorkflowParser.maxSteps - 1) + [Self.done])
        #expect(try WorkflowParser.parse(largest, known: Self.known).steps.count == 500)

        let tooMany = Self.document(Self.chain(WorkflowParser.maxSteps) + [Self.done])
        let problem = Self.problem { _ = try WorkflowParser.parse(tooMany, known: Self.known) }
        #expect(problem?.status == 422)
        #expect(problem?.errors?.map(\.field) == ["steps"])
        #expect(problem?.errors?.first?.message == "A workflow may have at most 500 steps; this one has 501.")
        // A version stored before the limit is read as it is.
        #expect(try WorkflowParser.parse(tooMany, known: nil).steps.count == 501)
    }

    @Test func aNewConditionNestsAtMost32Deep() throws {
        let deepest = Self.document(
            start: "b", [Self.branch(Self.nested(WorkflowParser.maxConditionDepth)), Self.done])
        _ = try WorkflowParser.parse(deepest, known: Self.known)

        let tooDeep = Self.document(
            start: "b", [Self.branch(Self.nested(WorkflowParser.maxConditionDepth + 1)), Self.done])
        let problem = Self.problem { _ = try WorkflowParser.parse(tooDeep, known: Self.known) }
        #expect(problem?.status == 422)
        #expect(problem?.errors?.first?.field == "b")
        #expect(
            problem?.errors?.first?.message
                == "Conditions may nest at most 32 levels deep (all, any and not each add one).")
        // As deep as JSON goes (JSONParser's 512 levels, 5 of them the document's own), stored before the limit.
        let stored = Self.document(start: "b", [Self.branch(Self.nested(JSONParser.maxDepth - 5)), Self.done])
        var bytes: [UInt8] = []
        stored.write(to: &bytes)
        let document = try WorkflowParser.parse(try JSONParser.parse(bytes), known: nil)
        guard case .branch(let cases, _) = document.step("b")?.kind else {
            Issue.record("b is not a branch")
            return
        }
        let context = WorkflowContext(
            contact: RouteContact(id: "contact-1"), channel: .email, messageBody: "", variables: [:])
        // 507 levels: 506 `not`s around a test that holds.
        #expect(context.evaluate(cases[0].condition) == true)
    }

    @Test func aNewWorkflowsConditionsTakeAtMost64KiB() throws {
        // Branches `b0` → `b1` → … each testing a 1,000-character body; 64 of them (about 66,000 bytes)
        // are too many, 60 fit.
        func branches(_ count: Int) -> [JSONValue] {
            let test = JSONValue.object([
                "field": .string("message.body"), "op": .string("contains"),
                "value": .string(String(repeating: "x", count: 1_000)),
            ])
            return (0..<count).map { Self.branch(test, id: "b\($0)", then: $0 + 1 < count ? "b\($0 + 1)" : "done") } + [
                Self.done
            ]
        }
        _ = try WorkflowParser.parse(Self.document(start: "b0", branches(60)), known: Self.known)

        let problem = Self.problem {
            _ = try WorkflowParser.parse(Self.document(start: "b0", branches(64)), known: Self.known)
        }
        #expect(problem?.status == 422)
        #expect(problem?.errors?.map(\.field) == ["steps"])
        #expect(
            problem?.errors?.first?.message.hasPrefix("A workflow's conditions may take at most 65536 bytes (64 KiB)")
                == true)
        _ = try WorkflowParser.parse(Self.document(start: "b0", branches(64)), known: nil)
    }
}
