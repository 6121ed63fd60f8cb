import ConciergeJSON
import ConciergeModels
import Foundation

/// Reads a workflow document from JSON and checks it whole (SPEC §5): unknown step types or fields,
/// missing or dangling `start`/`goto`/`next`, unreachable steps, loops that pass no `ask`, and ids
/// the routing service does not know. Every problem names its step id in `errors[].field`.
struct WorkflowParser {
    /// Ids that exist now: a workflow may only point at these.
    struct Known {
        var agents: Set<String>
        var inboxes: Set<String>
        var queues: Set<String>
    }

    static let stepFields: [String: Set<String>] = [
        "branch": ["cases", "else"],
        "reply": ["body", "next"],
        "ask": ["question", "expect", "saveTo", "maxRetries", "retryMessage", "successMessage", "next", "onExhausted"],
        "lookup": ["by", "source", "map", "next", "onNotFound", "onError"],
        "tag": ["tags", "next"],
        "assign": ["to"],
    ]

    /// Most steps a new workflow may have. A run stops after 100 steps (SPEC §5), so a longer chain
    /// never runs to its end; 500 leaves room for wide branching.
    static let maxSteps = 500
    /// Most bytes a new workflow's conditions may take together, as compact JSON (64 KiB): a run
    /// evaluates them on the route path, so their size is what a routing decision may cost.
    static let maxConditionBytes = 64 * 1024
    /// Deepest nesting of one condition through `all`, `any` and `not`.
    static let maxConditionDepth = 32

    private(set) var errors: [Problem.FieldError] = []
    /// `nil` when re-reading a stored version: ids are then checked when the run reaches them, and the
    /// size limits are not, so a version saved before they existed still runs.
    let known: Known?
    /// Bytes of the conditions read so far, as compact JSON.
    private var conditionBytes = 0

    init(known: Known?) { self.known = known }

    /// New documents keep the size limits; stored versions are read whatever their size.
    private var checksLimits: Bool { known != nil }

    /// The document, or 422 with every problem found.
    static func parse(_ json: JSONValue, known: Known?) throws -> WorkflowDocument {
        var parser = WorkflowParser(known: known)
        let document = parser.document(json)
        if let document { parser.checkGraph(document) }
        guard let document, parser.errors.isEmpty else {
            throw Problem.unprocessable("The workflow is not valid.", errors: parser.errors)
        }
        return document
    }

    private mutating func fail(_ field: String, _ message: String) {
        errors.append(.init(field: field, message: message))
    }

    private mutating func document(_ json: JSONValue) -> WorkflowDocument? {
        guard let object = json.objectValue else {
            fail("", "The workflow must be a JSON object with start and steps.")
            return nil
        }
        guard let start = object["start"]?.stringValue, !start.isEmpty else {
            fail("start", "start is missing; it names the first step.")
            return nil
        }
        guard let list = object["steps"]?.arrayValue, !list.isEmpty else {
            fail("steps", "steps must be a non-empty array.")
            return nil
        }
        if checksLimits && list.count > Self.maxSteps {
            fail("steps", "A workflow may have at most \(Self.maxSteps) steps; this one has \(list.count).")
            return nil
        }
        var steps: [WorkflowStep] = []
        var seen = Set<String>()
        for (index, raw) in list.enumerated() {
            guard let step = self.step(raw, index: index) else { continue }
            if !seen.insert(step.id).inserted {
                fail(step.id, "Step id \(step.id) is used twice.")
                continue
            }
            steps.append(step)
        }
        if checksLimits && conditionBytes > Self.maxConditionBytes {
            fail(
                "steps",
                "A workflow's conditions may take at most \(Self.maxConditionBytes) bytes (64 KiB) as compact JSON; "
                    + "these take \(conditionBytes).")
        }
        return WorkflowDocument(start: start, steps: steps)
    }

    private mutating func step(_ raw: JSONValue, index: Int) -> WorkflowStep? {
        guard let object = raw.objectValue else {
            fail("steps[\(index)]", "Each step must be an object.")
            return nil
        }
        guard let id = object["id"]?.stringValue, !id.isEmpty else {
            fail("steps[\(index)]", "The step has no id.")
            return nil
        }
        guard let type = object["type"]?.stringValue, let allowed = Self.stepFields[type] else {
            fail(
                id,
                "Unknown step type \(object["type"]?.stringValue ?? "(none)"); use branch, reply, ask, lookup, tag or assign."
            )
            return nil
        }
        for key in object.keys.sorted() where key != "id" && key != "type" && !allowed.contains(key) {
            fail(id, "Unknown field \(key) on a \(type) step.")
        }
        let before = errors.count
        let kind: WorkflowStep.Kind?
        switch type {
        case "branch": kind = branch(id, object)
        case "reply":
            kind = text(id, object, "body").map { .reply(body: $0, next: optionalText(id, object, "next")) }
        case "ask": kind = ask(id, object)
        case "lookup": kind = lookup(id, object)
        case "tag": kind = tag(id, object)
        default: kind = assign(id, object)
        }
        guard let kind, errors.count == before else { return nil }
        return WorkflowStep(id: id, kind: kind)
    }

    private mutating func branch(_ id: String, _ object: [String: JSONValue]) -> WorkflowStep.Kind? {
        guard let list = object["cases"]?.arrayValue else {
            fail(id, "A branch needs cases: [{\"if\": condition, \"goto\": step}].")
            return nil
        }
        var cases: [(Condition, String)] = []
        for (index, item) in list.enumerated() {
            guard let entry = item.objectValue, let goto = entry["goto"]?.stringValue, let test = entry["if"] else {
                fail(id, "cases[\(index)] needs if and goto.")
                continue
            }
            if let extra = entry.keys.first(where: { $0 != "if" && $0 != "goto" }) {
                fail(id, "Unknown field \(extra) in cases[\(index)].")
            }
            if let condition = condition(id, test) { cases.append((condition, goto)) }
        }
        return .branch(cases: cases, otherwise: optionalText(id, object, "else"))
    }

    private mutating func ask(_ id: String, _ object: [String: JSONValue]) -> WorkflowStep.Kind? {
        guard let question = text(id, object, "question"), let saveTo = text(id, object, "saveTo"),
            let next = text(id, object, "next")
        else { return nil }
        let expectText = optionalText(id, object, "expect") ?? "text"
        guard let expect = WorkflowStep.Ask.Expect(rawValue: expectText) else {
            fail(id, "expect must be email, phone or text.")
            return nil
        }
        guard saveTo == "contact.email" || saveTo == "contact.phone" || (saveTo.hasPrefix("var.") && saveTo.count > 4)
        else {
            fail(id, "saveTo must be contact.email, contact.phone or var.<Name>.")
            return nil
        }
        if saveTo == "contact.email" && expect != .email || saveTo == "contact.phone" && expect != .phone {
            fail(id, "saveTo \(saveTo) needs expect \(saveTo.dropFirst(8)).")
        }
        var retries = 3
        if let value = object["maxRetries"] {
            guard case .number(let number) = value, number >= 0, number <= 20, number == number.rounded() else {
                fail(id, "maxRetries must be an integer from 0 to 20.")
                return nil
            }
            retries = Int(number)
        }
        return .ask(
            WorkflowStep.Ask(
                question: question, expect: expect, saveTo: saveTo, maxRetries: retries,
                retryMessage: optionalText(id, object, "retryMessage"),
                successMessage: optionalText(id, object, "successMessage"),
                next: next, onExhausted: optionalText(id, object, "onExhausted")))
    }

    private mutating func lookup(_ id: String, _ object: [String: JSONValue]) -> WorkflowStep.Kind? {
        guard let byText = text(id, object, "by"), let next = text(id, object, "next") else { return nil }
        guard let by = WorkflowStep.Lookup.By(rawValue: byText) else {
            fail(id, "by must be email or phone.")
            return nil
        }
        var map: [String: String] = [:]
        if let raw = object["map"] {
            guard let entries = raw.objectValue else {
                fail(id, "map must be an object of variable name → JSONPath.")
                return nil
            }
            for (name, path) in entries {
                guard let path = path.stringValue, JSONPath(path) != nil else {
                    fail(id, "map.\(name) must be a JSONPath such as $.customerType or $.tiers[0].")
                    continue
                }
                map[name] = path
            }
        }
        return .lookup(
            WorkflowStep.Lookup(
                by: by, source: optionalText(id, object, "source") ?? "directory", map: map, next: next,
                onNotFound: optionalText(id, object, "onNotFound"), onError: optionalText(id, object, "onError")))
    }

    private mutating func tag(_ id: String, _ object: [String: JSONValue]) -> WorkflowStep.Kind? {
        guard let list = object["tags"]?.arrayValue, !list.isEmpty else {
            fail(id, "A tag step needs tags: [\"...\"].")
            return nil
        }
        let tags = list.compactMap { $0.stringValue?.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard tags.count == list.count else {
            fail(id, "tags must be non-empty strings.")
            return nil
        }
        return .tag(tags: tags, next: optionalText(id, object, "next"))
    }

    private mutating func assign(_ id: String, _ object: [String: JSONValue]) -> WorkflowStep.Kind? {
        guard let to = object["to"] else {
            fail(id, "An assign step needs to.")
            return nil
        }
        if to.stringValue == "dedicatedHero" { return .assign(.dedicatedHero) }
        guard let target = to.objectValue, target.count <= 2 else {
            fail(id, "to must be \"dedicatedHero\", {\"agent\"}, {\"inbox\", \"strategy\"?} or {\"queue\"}.")
            return nil
        }
        if let agent = target["agent"]?.stringValue, target.count == 1 {
            if let known, !known.agents.contains(agent) { fail(id, "No agent has id \(agent).") }
            return .assign(.agent(agent))
        }
        if let queue = target["queue"]?.stringValue, target.count == 1 {
            if let known, !known.queues.contains(queue) { fail(id, "No queue has id \(queue).") }
            return .assign(.queue(queue))
        }
        if let inbox = target["inbox"]?.stringValue {
            var strategy: Strategy?
            if let raw = target["strategy"] {
                guard let name = raw.stringValue, let parsed = Strategy(rawValue: name) else {
                    fail(id, "strategy must be round_robin or least_busy.")
                    return nil
                }
                strategy = parsed
            } else if target.count == 2 {
                fail(id, "Unknown field in to.")
            }
            if let known, !known.inboxes.contains(inbox) { fail(id, "No inbox has id \(inbox).") }
            return .assign(.inbox(inbox, strategy: strategy))
        }
        fail(id, "to must be \"dedicatedHero\", {\"agent\"}, {\"inbox\", \"strategy\"?} or {\"queue\"}.")
        return nil
    }

    private mutating func condition(_ id: String, _ json: JSONValue) -> Condition? {
        var parser = ConditionParser(
            isAllowedField: Self.isWorkflowField, allowsDedicatedHero: true,
            fieldHelp:
                "contact.email, contact.phone, contact.tag, contact.attribute.<key>, channel, message.body or var.<Name>",
            reportAs: id, limits: checksLimits ? ConditionParser.Limits(depth: Self.maxConditionDepth) : nil)
        let condition = parser.parse(json, at: id)
        errors += parser.errors
        if checksLimits, condition != nil {
            // Only a condition that was read is measured: its depth is then known to be small.
            var bytes: [UInt8] = []
            json.write(to: &bytes)
            conditionBytes += bytes.count
        }
        return condition
    }

    @Sendable static func isWorkflowField(_ field: String) -> Bool {
        ["contact.email", "contact.phone", "contact.tag", "channel", "message.body"].contains(field)
            || (field.hasPrefix("contact.attribute.") && field.count > 18)
            || (field.hasPrefix("var.") && field.count > 4)
    }

    private mutating func text(_ id: String, _ object: [String: JSONValue], _ key: String) -> String? {
        guard let value = object[key]?.stringValue, !value.isEmpty else {
            fail(id, "\(key) is required and must be a non-empty string.")
            return nil
        }
        return value
    }

    private mutating func optionalText(_ id: String, _ object: [String: JSONValue], _ key: String) -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue, !text.isEmpty else {
            fail(id, "\(key) must be a non-empty string.")
            return nil
        }
        return text
    }

    /// Dangling references, a missing start, unreachable steps, and loops that never pause at an `ask`.
    private mutating func checkGraph(_ document: WorkflowDocument) {
        let ids = Set(document.steps.map(\.id))
        guard ids.contains(document.start) else {
            fail("start", "start names \(document.start), which is not a step.")
            return
        }
        for step in document.steps {
            for target in step.successors where !ids.contains(target) {
                fail(step.id, "\(step.id) goes to \(target), which is not a step.")
            }
        }
        guard errors.isEmpty else { return }
        var reachable = Set<String>()
        var stack = [document.start]
        while let id = stack.popLast() {
            guard reachable.insert(id).inserted, let step = document.step(id) else { continue }
            stack += step.successors
        }
        for step in document.steps where !reachable.contains(step.id) {
            fail(step.id, "\(step.id) cannot be reached from start.")
        }
        // A cycle among steps that are not `ask` would spin without waiting for the customer. Walked
        // depth first with a stack of its own: a chain is as deep as it is long, and a walk by
        // recursion over a few thousand steps overflowed the thread's stack.
        var state: [String: Int] = [:]  // 1 on the current path, 2 done
        var path: [(id: String, successors: [String], next: Int)] = []
        func enter(_ id: String) {
            guard let step = document.step(id) else { return }
            if case .ask = step.kind { return }
            state[id] = 1
            path.append((id, step.successors, 0))
        }
        for step in document.steps where state[step.id] == nil {
            enter(step.id)
            while let top = path.last {
                guard top.next < top.successors.count else {
                    state[top.id] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let next = top.successors[top.next]
                if state[next] == 1 {
                    fail(next, "\(next) is part of a loop that passes no ask step.")
                } else if state[next] == nil {
                    enter(next)
                }
            }
        }
    }
}
