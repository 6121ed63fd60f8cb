import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Testing

@testable import RoutingService

/// `WorkflowRunner` step by step (SPEC §5 "The routing workflow"): conditions, tag, reply, ask,
/// lookup (against a tiny in-process CRM stub), assign; and the engine placing what a run decided.
@Suite struct WorkflowRunnerTests {
    static func document(_ json: String) throws -> WorkflowDocument {
        try WorkflowParser.parse(try JSONCoding.decode(JSONValue.self, from: Array(json.utf8)), known: nil)
    }

    static func context(
        _ contact: RouteContact = RouteContact(id: "k-1", name: "Kim"), channel: Channel = .email,
        body: String = "Hello"
    ) -> WorkflowContext {
        WorkflowContext(contact: contact, channel: channel, messageBody: body, variables: [:])
    }

    /// A runner whose CRM and contacts clients point where nobody listens: steps that call out fail.
    static let offline = RoutingEngineFixture.runner()

    // MARK: - Conditions

    /// One branch whose cases each assign to an agent named after the case.
    static let triage = """
        {"start": "check", "steps": [
          {"id": "check", "type": "branch", "cases": [
            {"if": {"field": "channel", "op": "equals", "value": "VOICE"}, "goto": "voice"},
            {"if": {"field": "contact.tag", "op": "in", "value": ["vip", "gold"]}, "goto": "vip"},
            {"if": {"field": "contact.attribute.tier", "op": "startsWith", "value": "plat"}, "goto": "platinum"},
            {"if": {"all": [{"field": "contact.email", "op": "endsWith", "value": "@corp.example"},
                            {"not": {"field": "message.body", "op": "contains", "value": "refund"}}]}, "goto": "corp"},
            {"if": {"any": [{"dedicatedHero": "assigned"}, {"field": "contact.phone", "op": "exists"}]}, "goto": "known"},
            {"if": {"all": [{"field": "contact.tag", "op": "exists"},
                            {"field": "contact.tag", "op": "notEquals", "value": "spam-suspect"}]}, "goto": "tagged"}],
           "else": "rest"},
          {"id": "voice", "type": "assign", "to": {"agent": "voice"}},
          {"id": "vip", "type": "assign", "to": {"agent": "vip"}},
          {"id": "platinum", "type": "assign", "to": {"agent": "platinum"}},
          {"id": "corp", "type": "assign", "to": {"agent": "corp"}},
          {"id": "known", "type": "assign", "to": {"agent": "known"}},
          {"id": "tagged", "type": "assign", "to": {"agent": "tagged"}},
          {"id": "rest", "type": "assign", "to": {"agent": "rest"}}]}
        """

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var context: WorkflowContext
        /// The case that holds (1-based), `nil` for `else`; and the step it goes to.
        var holds: Int?
        var goes: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "channel, case-insensitive", context: context(channel: .voice), holds: 1, goes: "voice"),
        Case(
            name: "a tag in a list, any of several tags",
            context: context(RouteContact(id: "k", tags: ["new", "GOLD"])), holds: 2, goes: "vip"),
        Case(
            name: "an attribute's prefix",
            context: context(RouteContact(id: "k", tags: ["spam-suspect"], attributes: ["tier": "Platinum+"])),
            holds: 3, goes: "platinum"),
        Case(
            name: "all: corporate email without a refund",
            context: context(RouteContact(id: "k", emails: ["a@x.example", "Bo@Corp.Example"])),
            holds: 4, goes: "corp"),
        Case(
            name: "all fails on its not: a refund",
            context: context(RouteContact(id: "k", emails: ["bo@corp.example"]), body: "I want a REFUND"),
            holds: nil, goes: "rest"),
        Case(
            name: "any: a dedicated hero",
            context: context(RouteContact(id: "k", dedicatedHero: DedicatedHero(type: .agent, id: "ada"))), holds: 5,
            goes: "known"),
        Case(
            name: "any: a phone", context: context(RouteContact(id: "k", phones: ["+4512345678"])), holds: 5,
            goes: "known"),
        Case(
            name: "notEquals on tags", context: context(RouteContact(id: "k", tags: ["newcomer"])), holds: 6,
            goes: "tagged"),
        // On a multi-valued field, notEquals holds when no value equals (not when some value differs).
        Case(
            name: "notEquals fails when any tag equals",
            context: context(RouteContact(id: "k", tags: ["x", "Spam-Suspect"])), holds: nil, goes: "rest"),
        Case(name: "nothing holds", context: context(RouteContact(id: "k")), holds: nil, goes: "rest"),
    ]

    @Test(arguments: cases)
    func conditionsPickTheFirstCaseThatHolds(_ example: Case) async throws {
        let result = await Self.offline.start(try Self.document(Self.triage), version: 3, context: example.context)
        #expect(result.outcome == .assign(.agent(example.goes)))
        let branch = example.holds.map { "case \($0) holds → \(example.goes)" } ?? "no case holds → rest"
        #expect(
            result.trace == [
                TraceStep(step: "workflow", outcome: "version 3 starts at check"),
                TraceStep(step: "check", outcome: branch),
                TraceStep(step: example.goes, outcome: "assign to agent \(example.goes)"),
            ])
        #expect(result.replies == [])
    }

    // MARK: - tag, reply, assign, the end of a run

    @Test func tagAndReplyRunInOrderAndTheAssignEndsTheRun() async throws {
        let document = try Self.document(
            """
            {"start": "tag", "steps": [
              {"id": "tag", "type": "tag", "tags": ["Billing", "workflow-seen"], "next": "greet"},
              {"id": "greet", "type": "reply", "body": "Hi {{contact.name}} on {{ channel }}{{var.Missing}}, {{contact.email}}.", "next": "more"},
              {"id": "more", "type": "tag", "tags": ["greeted"], "next": "place"},
              {"id": "place", "type": "assign", "to": {"inbox": "support", "strategy": "least_busy"}}]}
            """)
        let contact = RouteContact(id: "k-1", name: "Tia", emails: ["tia@example.com", "t2@example.com"])
        let result = await Self.offline.start(document, version: 1, context: Self.context(contact, channel: .messaging))
        #expect(result.outcome == .assign(.inbox("support", strategy: .leastBusy)))
        #expect(result.tags == ["Billing", "workflow-seen", "greeted"])
        #expect(result.replies == [Reply(body: "Hi Tia on messaging, tia@example.com.")])
        #expect(
            result.trace == [
                TraceStep(step: "workflow", outcome: "version 1 starts at tag"),
                TraceStep(step: "tag", outcome: "tagged Billing, workflow-seen"),
                TraceStep(step: "greet", outcome: "replied"),
                TraceStep(step: "more", outcome: "tagged greeted"),
                TraceStep(step: "place", outcome: "assign to inbox support by least_busy"),
            ])
    }

    @Test(arguments: [
        (#""dedicatedHero""#, WorkflowStep.AssignTarget.dedicatedHero, "assign to the dedicated hero"),
        (#"{"agent": "ada"}"#, .agent("ada"), "assign to agent ada"),
        (#"{"inbox": "support"}"#, .inbox("support", strategy: nil), "assign to inbox support"),
        (#"{"queue": "gold"}"#, .queue("gold"), "assign to queue gold"),
    ])
    func anAssignStepNamesItsTarget(_ to: String, _ target: WorkflowStep.AssignTarget, _ line: String) async throws {
        let document = try Self.document(#"{"start": "a", "steps": [{"id": "a", "type": "assign", "to": \#(to)}]}"#)
        let result = await Self.offline.start(document, version: 1, context: Self.context())
        #expect(result.outcome == .assign(target))
        #expect(result.trace.last == TraceStep(step: "a", outcome: line))
    }

    @Test func aRunThatEndsWithoutAssignFallsBackToDefaultRouting() async throws {
        let document = try Self.document(
            #"{"start": "bye", "steps": [{"id": "bye", "type": "reply", "body": "We will be in touch."}]}"#)
        let result = await Self.offline.start(document, version: 1, context: Self.context())
        #expect(result.outcome == .fallback)
        #expect(result.replies == [Reply(body: "We will be in touch.")])
        #expect(
            result.trace.last == TraceStep(step: "workflow", outcome: "ended without an assign step; default routing"))
    }

    @Test func aRunStopsAfterOneHundredSteps() async throws {
        let tags = (1...101).map {
            #"{"id": "t\#($0)", "type": "tag", "tags": ["n\#($0)"], "next": "\#($0 == 101 ? "done" : "t\($0 + 1)")"}"#
        }
        let document = try Self.document(
            #"{"start": "t1", "steps": [\#(tags.joined(separator: ", ")), {"id": "done", "type": "assign", "to": {"agent": "ada"}}]}"#
        )
        let result = await Self.offline.start(document, version: 1, context: Self.context())
        #expect(result.outcome == .fallback)
        #expect(result.tags.count == 100)
        #expect(result.trace.count == 102)
        #expect(result.trace.last == TraceStep(step: "t101", outcome: "stopped after 100 steps; default routing"))
    }

    // MARK: - ask

    static func askOrder(orders: String = "orders", support: String = "support") -> String {
        """
        {"start": "ask", "steps": [
          {"id": "ask", "type": "ask", "question": "Your order number, {{contact.name}}?", "saveTo": "var.Order",
           "successMessage": "Thanks, looking up {{var.Order}}.", "next": "check"},
          {"id": "check", "type": "branch", "cases": [{"if": {"field": "var.Order", "op": "startsWith", "value": "a-"}, "goto": "orders"}], "else": "support"},
          {"id": "orders", "type": "assign", "to": {"inbox": "\(orders)"}},
          {"id": "support", "type": "assign", "to": {"inbox": "\(support)"}}]}
        """
    }

    @Test func anAskPausesTheRunAndAValidAnswerGoesOn() async throws {
        let document = try Self.document(Self.askOrder())
        let started = await Self.offline.start(document, version: 4, context: Self.context())
        #expect(started.replies == [Reply(body: "Your order number, Kim?")])
        #expect(started.trace.last == TraceStep(step: "ask", outcome: "asked; waiting for the customer's answer"))
        guard case .pause(let paused) = started.outcome else {
            Issue.record("expected a pause, got \(started.outcome)")
            return
        }
        #expect(paused == WorkflowRun(version: 4, step: "ask", attempts: 0, context: Self.context()))

        let resumed = await Self.offline.resume(document, run: paused, answer: "  A-1234 ")
        #expect(resumed.outcome == .assign(.inbox("orders", strategy: nil)))
        #expect(resumed.context.variables["Order"] == .string("A-1234"))
        #expect(resumed.replies == [Reply(body: "Thanks, looking up A-1234.")])
        #expect(
            resumed.trace == [
                TraceStep(step: "ask", outcome: "valid answer saved to var.Order: A-1234"),
                TraceStep(step: "check", outcome: "case 1 holds → orders"),
                TraceStep(step: "orders", outcome: "assign to inbox orders"),
            ])
    }

    @Test func invalidAnswersAskAgainUntilTheRetriesRunOut() async throws {
        let document = try Self.document(
            """
            {"start": "ask", "steps": [
              {"id": "ask", "type": "ask", "question": "Your email?", "expect": "email", "saveTo": "var.Email", "maxRetries": 1,
               "retryMessage": "That is not an email address.", "next": "found", "onExhausted": "manager"},
              {"id": "found", "type": "assign", "to": {"inbox": "support"}},
              {"id": "manager", "type": "assign", "to": {"agent": "manager"}}]}
            """)
        guard case .pause(let asked) = await Self.offline.start(document, version: 1, context: Self.context()).outcome
        else {
            Issue.record("the ask did not pause the run")
            return
        }
        let retry = await Self.offline.resume(document, run: asked, answer: "not an address")
        #expect(retry.replies == [Reply(body: "That is not an email address.")])
        #expect(retry.trace == [TraceStep(step: "ask", outcome: "invalid answer 1 of 2; asking again")])
        guard case .pause(let again) = retry.outcome else {
            Issue.record("expected a second pause, got \(retry.outcome)")
            return
        }
        #expect(again.attempts == 1)
        let exhausted = await Self.offline.resume(document, run: again, answer: "still@not")
        #expect(exhausted.outcome == .assign(.agent("manager")))
        #expect(exhausted.replies == [])
        #expect(
            exhausted.trace == [
                TraceStep(step: "ask", outcome: "invalid answer 2; retries exhausted"),
                TraceStep(step: "manager", outcome: "assign to agent manager"),
            ])
        #expect(exhausted.context.variables["Email"] == nil)
    }

    static let askEmail = """
        {"start": "ask", "steps": [
          {"id": "ask", "type": "ask", "question": "Your email?", "expect": "email", "saveTo": "contact.email",
           "retryMessage": "Please try another address.", "next": "done"},
          {"id": "done", "type": "assign", "to": {"inbox": "support"}}]}
        """

    @Test func anEmailAnswerIsKeptForTheRunWhenContactsCannotBeReached() async throws {
        let document = try Self.document(Self.askEmail)
        guard case .pause(let asked) = await Self.offline.start(document, version: 1, context: Self.context()).outcome
        else {
            Issue.record("the ask did not pause the run")
            return
        }
        let resumed = await Self.offline.resume(document, run: asked, answer: " kim@example.com ")
        #expect(resumed.outcome == .assign(.inbox("support", strategy: nil)))
        #expect(resumed.context.contact.emails == ["kim@example.com"])
        #expect(resumed.trace.count == 3)
        #expect(resumed.trace[0].step == "ask")
        #expect(resumed.trace[0].outcome.hasPrefix("could not save kim@example.com to the contact ("))
        #expect(resumed.trace[0].outcome.hasSuffix("); kept for this run"))
        #expect(
            resumed.trace[1] == TraceStep(step: "ask", outcome: "valid answer saved to contact.email: kim@example.com"))
    }

    @Test func anEmailAnswerOwnedByAnotherContactIsInvalidAndAskedAgain() async throws {
        let router = Router()
        router.patch("/v1/contacts/{id}", access: .open) { _, _ in
            .problem(Problem(status: 409, title: "Email already in use", detail: "It belongs to another contact."))
        }
        try await Self.withStub(router) { url in
            let runner = RoutingEngineFixture.runner(contactsURL: url)
            let document = try Self.document(Self.askEmail)
            guard case .pause(let asked) = await runner.start(document, version: 1, context: Self.context()).outcome
            else {
                Issue.record("the ask did not pause the run")
                return
            }
            let resumed = await runner.resume(document, run: asked, answer: "taken@example.com")
            #expect(resumed.replies == [Reply(body: "Please try another address.")])
            #expect(
                resumed.trace == [
                    TraceStep(step: "ask", outcome: "answer taken@example.com belongs to another contact"),
                    TraceStep(step: "ask", outcome: "invalid answer 1 of 4; asking again"),
                ])
            #expect(resumed.context.contact.emails == nil)
            guard case .pause(let again) = resumed.outcome else {
                Issue.record("expected a second pause, got \(resumed.outcome)")
                return
            }
            #expect(again.attempts == 1)
        }
    }

    // MARK: - lookup

    static let lookup = """
        {"start": "lookup", "steps": [
          {"id": "lookup", "type": "lookup", "by": "email", "map": {"Type": "$.customerType", "Tier": "$.attributes.tiers[0]", "None": "$.nothing"},
           "next": "isVip", "onNotFound": "stranger", "onError": "broken"},
          {"id": "isVip", "type": "branch", "cases": [{"if": {"field": "var.Type", "op": "equals", "value": "vip"}, "goto": "vip"}], "else": "regular"},
          {"id": "vip", "type": "assign", "to": {"inbox": "vip"}},
          {"id": "regular", "type": "assign", "to": {"inbox": "regular"}},
          {"id": "stranger", "type": "assign", "to": {"inbox": "strangers"}},
          {"id": "broken", "type": "assign", "to": {"inbox": "fallback"}}]}
        """

    /// Runs a CRM-lookup stand-in on a free local port: `tia@example.com` is a VIP, `down@example.com`
    /// makes it answer 503, anyone else is not found.
    static func withCRMStub<T: Sendable>(_ body: (WorkflowRunner) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/v1/lookup", access: .open) { request, _ in
            switch request.query["email"] {
            case "tia@example.com":
                let record: JSONValue = .object([
                    "customerType": .string("VIP"),
                    "attributes": .object(["tiers": .array([.string("gold"), .string("silver")])]),
                ])
                return try .json(LookupResult(found: true, source: "directory", data: record))
            case "down@example.com":
                return .problem(Problem(status: 503, title: "Service unavailable", detail: "The directory is down."))
            default:
                return try .json(LookupResult(found: false, source: "directory"))
            }
        }
        return try await withStub(router) { url in try await body(RoutingEngineFixture.runner(crmURL: url)) }
    }

    /// Serves `router` on a free local port for the duration of `body`, which gets its base URL.
    static func withStub<T: Sendable>(_ router: Router, _ body: (String) async throws -> T) async throws -> T {
        let server = HTTPServer(
            ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1), router: router,
            logger: Logger(service: "stub", level: .error, sink: MemorySink()), signer: nil)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                let port = try await server.waitUntilListening()
                let result = try await body("http://127.0.0.1:\(port)")
                server.shutdown()
                try await group.waitForAll()
                return result
            } catch {
                server.shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    @Test func aFoundRecordFillsTheMappedVariables() async throws {
        try await Self.withCRMStub { runner in
            let contact = RouteContact(id: "k-1", emails: ["tia@example.com"])
            let result = await runner.start(try Self.document(Self.lookup), version: 1, context: Self.context(contact))
            #expect(result.outcome == .assign(.inbox("vip", strategy: nil)))
            #expect(result.context.variables == ["Type": .string("VIP"), "Tier": .string("gold")])
            #expect(
                Array(result.trace.dropFirst()) == [
                    TraceStep(step: "lookup", outcome: "directory: found None=∅ Tier=gold Type=VIP → isVip"),
                    TraceStep(step: "isVip", outcome: "case 1 holds → vip"),
                    TraceStep(step: "vip", outcome: "assign to inbox vip"),
                ])
        }
    }

    @Test func notFoundAndFailingLookupsTakeTheirOwnWay() async throws {
        try await Self.withCRMStub { runner in
            let document = try Self.document(Self.lookup)
            let unknown = await runner.start(
                document, version: 1, context: Self.context(RouteContact(id: "k", emails: ["who@example.com"])))
            #expect(unknown.outcome == .assign(.inbox("strangers", strategy: nil)))
            #expect(unknown.trace[1] == TraceStep(step: "lookup", outcome: "directory: not found → stranger"))

            let down = await runner.start(
                document, version: 1, context: Self.context(RouteContact(id: "k", emails: ["down@example.com"])))
            #expect(down.outcome == .assign(.inbox("fallback", strategy: nil)))
            #expect(down.trace[1].step == "lookup")
            #expect(down.trace[1].outcome.hasPrefix("directory: error ("), "\(down.trace[1])")
            #expect(down.trace[1].outcome.hasSuffix(") → broken"), "\(down.trace[1])")
        }
    }

    @Test func aLookupNeedsNoCallWithoutTheIdentityAndAnUnreachableCRMIsAnError() async throws {
        let document = try Self.document(Self.lookup)
        let noEmail = await Self.offline.start(
            document, version: 1, context: Self.context(RouteContact(id: "k", phones: ["+4512345678"])))
        #expect(noEmail.outcome == .assign(.inbox("strangers", strategy: nil)))
        #expect(noEmail.trace[1] == TraceStep(step: "lookup", outcome: "contact has no email → stranger"))

        let unreachable = await Self.offline.start(
            document, version: 1, context: Self.context(RouteContact(id: "k", emails: ["tia@example.com"])))
        #expect(unreachable.outcome == .assign(.inbox("fallback", strategy: nil)))
        #expect(unreachable.trace[1].outcome.hasPrefix("directory: error ("), "\(unreachable.trace[1])")
    }
}
