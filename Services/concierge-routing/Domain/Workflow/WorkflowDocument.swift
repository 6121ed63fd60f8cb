import ConciergeModels

/// A routing workflow (SPEC §5 "The routing workflow"): named steps from `start` to an `assign`.
struct WorkflowDocument: Sendable, Equatable {
    var start: String
    var steps: [WorkflowStep] { didSet { positions = Self.positions(steps) } }
    /// Each step's place in `steps` by id: a run and the graph checks find a step at once, however
    /// many a stored document has.
    private(set) var positions: [String: Int]

    init(start: String, steps: [WorkflowStep]) {
        self.start = start
        self.steps = steps
        positions = Self.positions(steps)
    }

    func step(_ id: String) -> WorkflowStep? { positions[id].map { steps[$0] } }

    /// Of steps sharing an id (which the parser refuses), the first, as a scan from the top would find.
    private static func positions(_ steps: [WorkflowStep]) -> [String: Int] {
        Dictionary(steps.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// `positions` follow from `steps`.
    static func == (lhs: WorkflowDocument, rhs: WorkflowDocument) -> Bool {
        lhs.start == rhs.start && lhs.steps == rhs.steps
    }
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
                x == y && a.count == b.count
                    && zip(a, b).allSatisfy { $0.condition == $1.condition && $0.goto == $1.goto }
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
        var map: [String: String] { didSet { mappings = Self.mappings(map) } }
        var next: String
        var onNotFound: String?
        var onError: String?
        /// `map` in variable-name order, each JSONPath read once (not on every run); `nil` when invalid.
        private(set) var mappings: [(name: String, path: JSONPath?)]

        init(by: By, source: String, map: [String: String], next: String, onNotFound: String?, onError: String?) {
            self.by = by
            self.source = source
            self.map = map
            self.next = next
            self.onNotFound = onNotFound
            self.onError = onError
            mappings = Self.mappings(map)
        }

        private static func mappings(_ map: [String: String]) -> [(name: String, path: JSONPath?)] {
            map.sorted { $0.key < $1.key }.map { (name: $0.key, path: JSONPath($0.value)) }
        }

        /// `mappings` follow from `map`.
        static func == (lhs: Lookup, rhs: Lookup) -> Bool {
            lhs.by == rhs.by && lhs.source == rhs.source && lhs.map == rhs.map && lhs.next == rhs.next
                && lhs.onNotFound == rhs.onNotFound && lhs.onError == rhs.onError
        }
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
