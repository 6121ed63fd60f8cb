import Models

/// A routing workflow (SPEC §5 "The routing workflow"): named steps from `start` to an `assign`.
struct WorkflowDocument: Sendable, Equatable {
    var start: String
    var steps: [WorkflowStep]

    func step(_ id: String) -> WorkflowStep? { steps.first { $0.id == id } }
}

struct WorkflowStep: Sendable, Equatable {
    var id: String
    var kind: Kind

    enum Kind: Sendable, Equatable {
        case branch(cases: [(condition: Condition, goto: String)], otherwise: String?)
        case reply(body: String, next: String?)
        case ask(Ask)
        case lookup(Lookup)
        case tag(tags: [String], next: String?)
        case assign(AssignTarget)

        static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case (.branch(let a, let x), .branch(let b, let y)):
                x == y && a.count == b.count && zip(a, b).allSatisfy { $0.condition == $1.condition && $0.goto == $1.goto }
            case (.reply(let a, let x), .reply(let b, let y)): a == b && x == y
            case (.ask(let a), .ask(let b)): a == b
            case (.lookup(let a), .lookup(let b)): a == b
            case (.tag(let a, let x), .tag(let b, let y)): a == b && x == y
            case (.assign(let a), .assign(let b)): a == b
            default: false
            }
        }
    }

    struct Ask: Sendable, Equatable {
        enum Expect: String, Sendable { case email, phone, text }
        var question: String
        var expect: Expect
        /// `contact.email`, `contact.phone` or `var.<Name>`.
        var saveTo: String
        var maxRetries: Int
        var retryMessage: String?
        var successMessage: String?
        var next: String
        var onExhausted: String?
    }

    struct Lookup: Sendable, Equatable {
        enum By: String, Sendable { case email, phone }
        var by: By
        var source: String
        var map: [String: String]
        var next: String
        var onNotFound: String?
        var onError: String?
    }

    enum AssignTarget: Sendable, Equatable {
        case dedicatedHero
        case agent(String)
        case inbox(String, strategy: Strategy?)
        case queue(String)
    }

    /// Every step id this step can go to.
    var successors: [String] {
        switch kind {
        case .branch(let cases, let otherwise): cases.map(\.goto) + (otherwise.map { [$0] } ?? [])
        case .reply(_, let next), .tag(_, let next): next.map { [$0] } ?? []
        case .ask(let ask): [ask.next] + (ask.onExhausted.map { [$0] } ?? [])
        case .lookup(let lookup): [lookup.next] + [lookup.onNotFound, lookup.onError].compactMap { $0 }
        case .assign: []
        }
    }
}
