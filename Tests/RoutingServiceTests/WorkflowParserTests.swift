import ConciergeJSON
import ConciergeModels
import Testing

@testable import RoutingService

/// `WorkflowParser` checks a workflow document whole before it is saved (SPEC §5): each problem is
/// named by its step id (or `start`/`steps`) with a message saying what to fix.
@Suite struct WorkflowParserTests {
    /// A document that must be refused with exactly these errors, in this order.
    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var document: String
        var errors: [Problem.FieldError]
        var testDescription: String { name }

        init(_ name: String, _ document: String, _ errors: [(field: String, message: String)]) {
            self.name = name
            self.document = document
            self.errors = errors.map { Problem.FieldError(field: $0.field, message: $0.message) }
        }
    }

    static let known = WorkflowParser.Known(agents: ["agent-1"], inboxes: ["inbox-1"], queues: ["queue-1"])
    static let done = #"{"id": "done", "type": "assign", "to": {"inbox": "inbox-1"}}"#

    /// A document starting at `done` with `step` beside it: the step's own errors, nothing else.
    static func beside(_ step: String) -> String { #"{"start": "done", "steps": [\#(step), \#(done)]}"# }

    /// A branch step `check` on `condition`, going to `done` either way.
    static func branch(_ condition: String) -> String {
        beside(#"{"id": "check", "type": "branch", "cases": [{"if": \#(condition), "goto": "done"}], "else": "done"}"#)
    }

    static let fieldHelp =
        "contact.email, contact.phone, contact.tag, contact.attribute.<key>, channel, message.body or var.<Name>"

    static let invalid: [Invalid] = [
        Invalid("not an object", #"["done"]"#, [("", "The workflow must be a JSON object with start and steps.")]),
        Invalid("missing start", #"{"steps": [\#(done)]}"#, [("start", "start is missing; it names the first step.")]),
        Invalid("empty steps", #"{"start": "done", "steps": []}"#, [("steps", "steps must be a non-empty array.")]),
        Invalid("a step that is not an object", beside("42"), [("steps[0]", "Each step must be an object.")]),
        Invalid(
            "a step without id", beside(#"{"type": "reply", "body": "Hi"}"#), [("steps[0]", "The step has no id.")]),
        Invalid(
            "unknown step type", beside(#"{"id": "s", "type": "teleport", "next": "done"}"#),
            [("s", "Unknown step type teleport; use branch, reply, ask, lookup, tag or assign.")]),
        Invalid(
            "unknown field on a step",
            beside(#"{"id": "greet", "type": "reply", "body": "Hi", "next": "done", "colour": "red"}"#),
            [("greet", "Unknown field colour on a reply step.")]),
        Invalid(
            "a step id used twice", #"{"start": "done", "steps": [\#(done), \#(done)]}"#,
            [("done", "Step id done is used twice.")]),
        Invalid(
            "goto to a missing step",
            #"{"start": "check", "steps": [{"id": "check", "type": "branch", "cases": [{"if": {"field": "channel", "op": "equals", "value": "email"}, "goto": "nowhere"}], "else": "done"}, \#(done)]}"#,
            [("check", "check goes to nowhere, which is not a step.")]),
        Invalid(
            "next to a missing step",
            #"{"start": "greet", "steps": [{"id": "greet", "type": "reply", "body": "Hi", "next": "nowhere"}, \#(done)]}"#,
            [("greet", "greet goes to nowhere, which is not a step.")]),
        Invalid(
            "start naming no step", #"{"start": "ghost", "steps": [\#(done)]}"#,
            [("start", "start names ghost, which is not a step.")]),
        Invalid(
            "an unreachable step",
            beside(#"{"id": "orphan", "type": "reply", "body": "Nobody reads this", "next": "done"}"#),
            [("orphan", "orphan cannot be reached from start.")]),
        Invalid(
            "a reply and a tag step in a ring",
            #"{"start": "r", "steps": [{"id": "r", "type": "reply", "body": "Again", "next": "t"}, {"id": "t", "type": "tag", "tags": ["again"], "next": "r"}]}"#,
            [("r", "r is part of a loop that passes no ask step.")]),
        Invalid(
            "unknown agent id", beside(#"{"id": "a", "type": "assign", "to": {"agent": "no-such-agent"}}"#),
            [("a", "No agent has id no-such-agent.")]),
        Invalid(
            "unknown inbox id",
            beside(#"{"id": "a", "type": "assign", "to": {"inbox": "no-such-inbox", "strategy": "least_busy"}}"#),
            [("a", "No inbox has id no-such-inbox.")]),
        Invalid(
            "unknown queue id", beside(#"{"id": "a", "type": "assign", "to": {"queue": "no-such-queue"}}"#),
            [("a", "No queue has id no-such-queue.")]),
        Invalid(
            "unknown strategy",
            beside(#"{"id": "a", "type": "assign", "to": {"inbox": "inbox-1", "strategy": "random"}}"#),
            [("a", "strategy must be round_robin or least_busy.")]),
        Invalid(
            "assign without to", beside(#"{"id": "a", "type": "assign"}"#), [("a", "An assign step needs to.")]),
        Invalid(
            "assign to a bare string", beside(#"{"id": "a", "type": "assign", "to": "somewhere"}"#),
            [("a", #"to must be "dedicatedHero", {"agent"}, {"inbox", "strategy"?} or {"queue"}."#)]),
        Invalid(
            "a reply without body", beside(#"{"id": "r", "type": "reply", "next": "done"}"#),
            [("r", "body is required and must be a non-empty string.")]),
        Invalid(
            "a tag step without tags", beside(#"{"id": "t", "type": "tag", "tags": [], "next": "done"}"#),
            [("t", #"A tag step needs tags: ["..."]."#)]),
        Invalid(
            "a blank tag", beside(#"{"id": "t", "type": "tag", "tags": ["ok", "  "], "next": "done"}"#),
            [("t", "tags must be non-empty strings.")]),
        Invalid(
            "ask saving an email from a phone answer",
            beside(
                #"{"id": "ask", "type": "ask", "question": "Email?", "expect": "phone", "saveTo": "contact.email", "next": "done"}"#
            ),
            [("ask", "saveTo contact.email needs expect email.")]),
        Invalid(
            "ask saving to an unknown place",
            beside(#"{"id": "ask", "type": "ask", "question": "Size?", "saveTo": "contact.shoeSize", "next": "done"}"#),
            [("ask", "saveTo must be contact.email, contact.phone or var.<Name>.")]),
        Invalid(
            "ask expecting a date",
            beside(
                #"{"id": "ask", "type": "ask", "question": "When?", "expect": "date", "saveTo": "var.When", "next": "done"}"#
            ),
            [("ask", "expect must be email, phone or text.")]),
        Invalid(
            "too many retries",
            beside(
                #"{"id": "ask", "type": "ask", "question": "Q?", "saveTo": "var.A", "maxRetries": 21, "next": "done"}"#),
            [("ask", "maxRetries must be an integer from 0 to 20.")]),
        Invalid(
            "a lookup by fax", beside(#"{"id": "look", "type": "lookup", "by": "fax", "next": "done"}"#),
            [("look", "by must be email or phone.")]),
        Invalid(
            "a map entry that is not a JSONPath",
            beside(
                #"{"id": "look", "type": "lookup", "by": "email", "map": {"Type": "customerType"}, "next": "done"}"#),
            [("look", "map.Type must be a JSONPath such as $.customerType or $.tiers[0].")]),
        Invalid(
            "unknown condition field", branch(#"{"field": "contact.shoeSize", "op": "equals", "value": "42"}"#),
            [("check", "Unknown field contact.shoeSize; use \(fieldHelp).")]),
        Invalid(
            "unknown condition op", branch(#"{"field": "channel", "op": "resembles", "value": "email"}"#),
            [("check", "Unknown op resembles; use exists, equals, notEquals, in, contains, startsWith or endsWith.")]),
        Invalid(
            "in without a list", branch(#"{"field": "contact.tag", "op": "in", "value": "vip"}"#),
            [("check", "in needs value: a non-empty list of strings.")]),
        Invalid(
            "equals without a value", branch(#"{"field": "channel", "op": "equals"}"#),
            [("check", "equals needs a string value.")]),
        Invalid(
            "dedicatedHero neither assigned nor unassigned", branch(#"{"dedicatedHero": "maybe"}"#),
            [("check", "dedicatedHero must be assigned or unassigned.")]),
        Invalid(
            "an empty all", branch(#"{"all": []}"#),
            [("check", "all must be the only key, with a non-empty list of conditions.")]),
        Invalid(
            "a case without goto",
            beside(
                #"{"id": "check", "type": "branch", "cases": [{"if": {"field": "channel", "op": "exists"}}], "else": "done"}"#
            ),
            [("check", "cases[0] needs if and goto.")]),
    ]

    @Test(arguments: invalid)
    func anInvalidDocumentIsRefusedNamingTheStep(_ invalid: Invalid) throws {
        let json = try JSONCoding.decode(JSONValue.self, from: Array(invalid.document.utf8))
        let problem = #expect(throws: Problem.self) { try WorkflowParser.parse(json, known: Self.known) }
        #expect(problem?.status == 422)
        #expect(problem?.errors == invalid.errors)
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let document = #"""
            {"start": "greet", "steps": [
              {"id": "greet", "type": "reply", "body": "Hi", "next": "toAgent", "colour": "red"},
              {"id": "toAgent", "type": "assign", "to": {"agent": "no-such-agent"}},
              {"id": "toQueue", "type": "assign", "to": {"queue": "no-such-queue"}}]}
            """#
        let json = try JSONCoding.decode(JSONValue.self, from: Array(document.utf8))
        let problem = #expect(throws: Problem.self) { try WorkflowParser.parse(json, known: Self.known) }
        // A step refused for its content is left out of the graph, so a step going to it is reported
        // too; an unknown field alone does not leave its step out.
        #expect(
            problem?.errors == [
                Problem.FieldError(field: "greet", message: "Unknown field colour on a reply step."),
                Problem.FieldError(field: "toAgent", message: "No agent has id no-such-agent."),
                Problem.FieldError(field: "toQueue", message: "No queue has id no-such-queue."),
                Problem.FieldError(field: "greet", message: "greet goes to toAgent, which is not a step."),
            ])
    }

    @Test func aStoredVersionIsReadWithoutCheckingIds() throws {
        let json = try JSONCoding.decode(
            JSONValue.self,
            from: Array(#"{"start": "a", "steps": [{"id": "a", "type": "assign", "to": {"agent": "gone"}}]}"#.utf8))
        #expect(
            try WorkflowParser.parse(json, known: nil).steps == [WorkflowStep(id: "a", kind: .assign(.agent("gone")))])
    }

    @Test func aValidDocumentBecomesItsStepsWithDefaultsFilledIn() throws {
        let document = #"""
            {"start": "hero", "steps": [
              {"id": "hero", "type": "branch", "cases": [
                 {"if": {"dedicatedHero": "assigned"}, "goto": "toHero"},
                 {"if": {"all": [{"field": "channel", "op": "equals", "value": "voice"}, {"not": {"field": "contact.tag", "op": "in", "value": ["vip", "gold"]}}]}, "goto": "tag"}],
               "else": "ask"},
              {"id": "toHero", "type": "assign", "to": "dedicatedHero"},
              {"id": "tag", "type": "tag", "tags": [" Billing "], "next": "greet"},
              {"id": "greet", "type": "reply", "body": "Hi {{contact.name}}", "next": "toQueue"},
              {"id": "toQueue", "type": "assign", "to": {"queue": "queue-1"}},
              {"id": "ask", "type": "ask", "question": "Your order number?", "saveTo": "var.Order", "next": "look"},
              {"id": "look", "type": "lookup", "by": "phone", "map": {"Type": "$.customerType"}, "next": "toInbox", "onError": "toAgent"},
              {"id": "toInbox", "type": "assign", "to": {"inbox": "inbox-1", "strategy": "least_busy"}},
              {"id": "toAgent", "type": "assign", "to": {"agent": "agent-1"}}]}
            """#
        let parsed = try WorkflowParser.parse(
            try JSONCoding.decode(JSONValue.self, from: Array(document.utf8)), known: Self.known)
        let notVIP = Condition.not(.field("contact.tag", op: .in, value: .array([.string("vip"), .string("gold")])))
        #expect(parsed.start == "hero")
        #expect(
            parsed.steps.map(\.id) == [
                "hero", "toHero", "tag", "greet", "toQueue", "ask", "look", "toInbox", "toAgent",
            ])
        #expect(
            parsed.step("hero")?.kind
                == .branch(
                    cases: [
                        (.dedicatedHero(assigned: true), "toHero"),
                        (.all([.field("channel", op: .equals, value: .string("voice")), notVIP]), "tag"),
                    ], otherwise: "ask"))
        #expect(parsed.step("tag")?.kind == .tag(tags: ["Billing"], next: "greet"))
        #expect(
            parsed.step("ask")?.kind
                == .ask(
                    WorkflowStep.Ask(
                        question: "Your order number?", expect: .text, saveTo: "var.Order", maxRetries: 3,
                        retryMessage: nil,
                        successMessage: nil, next: "look", onExhausted: nil)))
        #expect(
            parsed.step("look")?.kind
                == .lookup(
                    WorkflowStep.Lookup(
                        by: .phone, source: "directory", map: ["Type": "$.customerType"], next: "toInbox",
                        onNotFound: nil, onError: "toAgent")))
        #expect(parsed.step("toInbox")?.kind == .assign(.inbox("inbox-1", strategy: .leastBusy)))
        #expect(parsed.step("toQueue")?.kind == .assign(.queue("queue-1")))
        #expect(parsed.step("toHero")?.kind == .assign(.dedicatedHero))
    }

    @Test func aLoopThroughAnAskIsAccepted() throws {
        let document = #"""
            {"start": "ask", "steps": [
              {"id": "ask", "type": "ask", "question": "Order number?", "saveTo": "var.Order", "next": "check"},
              {"id": "check", "type": "branch", "cases": [{"if": {"field": "var.Order", "op": "startsWith", "value": "A"}, "goto": "done"}], "else": "again"},
              {"id": "again", "type": "reply", "body": "Orders start with A.", "next": "ask"},
              \#(Self.done)]}
            """#
        let parsed = try WorkflowParser.parse(
            try JSONCoding.decode(JSONValue.self, from: Array(document.utf8)), known: Self.known)
        #expect(parsed.steps.count == 4)
    }
}
