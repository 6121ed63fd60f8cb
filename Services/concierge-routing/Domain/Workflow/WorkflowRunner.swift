import ConciergeClients
import ConciergeJSON
import ConciergeModels
import Foundation

/// A paused run, persisted while a workflow waits for the customer's answer to an `ask`.
struct WorkflowRun: Sendable, Codable, Equatable {
    var version: Int
    var step: String
    /// Invalid answers so far to this `ask`.
    var attempts: Int
    var context: WorkflowContext
}

/// Executes workflow steps (SPEC §5): everything but the final placement, which the engine does
/// under its lock. Calls out (CRM lookups, saving answers to contacts) happen here, outside the
/// lock, each with a ceiling, so a slow dependency never holds up other decisions.
struct WorkflowRunner: Sendable {
    enum Outcome: Sendable, Equatable {
        case assign(WorkflowStep.AssignTarget)
        case pause(WorkflowRun)
        /// The run ended without an assign step: default routing applies.
        case fallback
    }

    struct Result: Sendable {
        var outcome: Outcome
        var replies: [Reply] = []
        var tags: [String] = []
        var trace: [TraceStep] = []
        var context: WorkflowContext
    }

    /// Steps per run before it is stopped and default routing takes over (SPEC §5: a run stops after 100).
    static let stepLimit = 100
    let crm: CRMLookupClient
    let contacts: ContactsClient

    func start(_ document: WorkflowDocument, version: Int, context: WorkflowContext) async -> Result {
        var result = Result(outcome: .fallback, context: context)
        result.trace.append(TraceStep(step: "workflow", outcome: "version \(version) starts at \(document.start)"))
        await run(document, version: version, from: document.start, into: &result)
        return result
    }

    /// The customer answered the `ask` the run is paused at.
    func resume(_ document: WorkflowDocument, run paused: WorkflowRun, answer: String) async -> Result {
        var result = Result(outcome: .fallback, context: paused.context)
        result.context.messageBody = answer
        guard let step = document.step(paused.step), case .ask(let ask) = step.kind else {
            result.trace.append(TraceStep(step: paused.step, outcome: "paused step no longer exists; default routing"))
            return result
        }
        if let value = await accept(answer, for: ask, step: step.id, into: &result) {
            result.trace.append(TraceStep(step: step.id, outcome: "valid answer saved to \(ask.saveTo): \(value)"))
            if let success = ask.successMessage { result.replies.append(Reply(body: result.context.fill(success))) }
            await run(document, version: paused.version, from: ask.next, into: &result)
            return result
        }
        let attempts = paused.attempts + 1
        if attempts > ask.maxRetries {
            result.trace.append(TraceStep(step: step.id, outcome: "invalid answer \(attempts); retries exhausted"))
            guard let exhausted = ask.onExhausted else { return result }
            await run(document, version: paused.version, from: exhausted, into: &result)
            return result
        }
        result.trace.append(
            TraceStep(step: step.id, outcome: "invalid answer \(attempts) of \(ask.maxRetries + 1); asking again"))
        result.replies.append(Reply(body: result.context.fill(ask.retryMessage ?? ask.question)))
        result.outcome = .pause(
            WorkflowRun(version: paused.version, step: step.id, attempts: attempts, context: result.context))
        return result
    }

    private func run(_ document: WorkflowDocument, version: Int, from first: String, into result: inout Result) async {
        var current: String? = first
        var count = 0
        while let id = current {
            count += 1
            guard count <= Self.stepLimit else {
                result.trace.append(
                    TraceStep(step: id, outcome: "stopped after \(Self.stepLimit) steps; default routing"))
                result.outcome = .fallback
                return
            }
            guard let step = document.step(id) else {
                result.trace.append(TraceStep(step: id, outcome: "no such step; default routing"))
                return
            }
            switch step.kind {
            case .branch(let cases, let otherwise):
                if let index = cases.firstIndex(where: { result.context.evaluate($0.condition) }) {
                    result.trace.append(TraceStep(step: id, outcome: "case \(index + 1) holds → \(cases[index].goto)"))
                    current = cases[index].goto
                } else {
                    result.trace.append(TraceStep(step: id, outcome: "no case holds → \(otherwise ?? "end")"))
                    current = otherwise
                }
            case .reply(let body, let next):
                let text = result.context.fill(body)
                result.replies.append(Reply(body: text))
                result.trace.append(TraceStep(step: id, outcome: "replied"))
                current = next
            case .tag(let tags, let next):
                result.tags += tags
                result.trace.append(TraceStep(step: id, outcome: "tagged \(tags.joined(separator: ", "))"))
                current = next
            case .ask(let ask):
                result.replies.append(Reply(body: result.context.fill(ask.question)))
                result.trace.append(TraceStep(step: id, outcome: "asked; waiting for the customer's answer"))
                result.outcome = .pause(WorkflowRun(version: version, step: id, attempts: 0, context: result.context))
                return
            case .lookup(let lookup):
                current = await self.lookup(lookup, step: id, into: &result)
            case .assign(let target):
                result.trace.append(TraceStep(step: id, outcome: "assign \(Self.describe(target))"))
                result.outcome = .assign(target)
                return
            }
        }
        result.trace.append(TraceStep(step: "workflow", outcome: "ended without an assign step; default routing"))
        result.outcome = .fallback
    }

    /// Calls the CRM-lookup service (2 s ceiling): found → variables from `map`, then `next`.
    private func lookup(_ lookup: WorkflowStep.Lookup, step id: String, into result: inout Result) async -> String? {
        let value = lookup.by == .email ? result.context.contact.emails?.first : result.context.contact.phones?.first
        guard let value else {
            result.trace.append(
                TraceStep(
                    step: id, outcome: "contact has no \(lookup.by.rawValue) → \(lookup.onNotFound ?? lookup.next)"))
            return lookup.onNotFound ?? lookup.next
        }
        let source = lookup.source == "directory" ? nil : lookup.source
        do {
            let answer = try await crm.lookup(
                email: lookup.by == .email ? value : nil, phone: lookup.by == .phone ? value : nil, source: source)
            guard answer.found, let data = answer.data else {
                result.trace.append(
                    TraceStep(step: id, outcome: "\(lookup.source): not found → \(lookup.onNotFound ?? lookup.next)"))
                return lookup.onNotFound ?? lookup.next
            }
            var copied: [String] = []
            for (name, path) in lookup.mappings {
                if let found = path?.evaluate(data) { result.context.variables[name] = found }
                copied.append("\(name)=\(result.context.variables[name]?.text ?? "∅")")
            }
            result.trace.append(
                TraceStep(
                    step: id,
                    outcome:
                        "\(lookup.source): found\(answer.stale ? " (stale)" : "") \(copied.joined(separator: " ")) → \(lookup.next)"
                ))
            return lookup.next
        } catch {
            result.trace.append(
                TraceStep(step: id, outcome: "\(lookup.source): error (\(error)) → \(lookup.onError ?? lookup.next)"))
            return lookup.onError ?? lookup.next
        }
    }

    /// A valid answer, saved where the step says; `nil` when invalid (a clash with another
    /// contact's identity counts as invalid).
    private func accept(_ answer: String, for ask: WorkflowStep.Ask, step id: String, into result: inout Result) async
        -> String?
    {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        let value: String?
        switch ask.expect {
        case .email: value = Addresses.email(trimmed)
        case .phone: value = Addresses.e164(trimmed)
        case .text: value = trimmed.isEmpty ? nil : trimmed
        }
        guard let value else { return nil }
        var contact = result.context.contact
        switch ask.saveTo {
        case "contact.email", "contact.phone":
            let isEmail = ask.saveTo == "contact.email"
            var list = (isEmail ? contact.emails : contact.phones) ?? []
            if !list.contains(value) { list.append(value) }
            do {
                _ = try await contacts.update(
                    contact.id, isEmail ? ContactPatch(emails: list) : ContactPatch(phones: list))
            } catch {
                if case .problem(let problem) = error, problem.status == 409 || problem.status == 400 {
                    result.trace.append(TraceStep(step: id, outcome: "answer \(value) belongs to another contact"))
                    return nil
                }
                result.trace.append(
                    TraceStep(step: id, outcome: "could not save \(value) to the contact (\(error)); kept for this run")
                )
            }
            if isEmail { contact.emails = list } else { contact.phones = list }
            result.context.contact = contact
        default:
            result.context.variables[String(ask.saveTo.dropFirst(4))] = .string(value)
        }
        return value
    }

    static func describe(_ target: WorkflowStep.AssignTarget) -> String {
        switch target {
        case .dedicatedHero: "to the dedicated hero"
        case .agent(let id): "to agent \(id)"
        case .inbox(let id, let strategy): "to inbox \(id)" + (strategy.map { " by \($0.rawValue)" } ?? "")
        case .queue(let id): "to queue \(id)"
        }
    }
}
