import ConciergeJSON

/// A condition tree (SPEC §5 workflow conditions, §6 smart-folder rules): `{"field", "op", "value"?}`,
/// `{"dedicatedHero": "assigned"|"unassigned"}` (workflows only), and `all`/`any`/`not`.
public indirect enum Condition: Sendable, Equatable {
    case dedicatedHero(assigned: Bool)
    case field(String, op: Operator, value: JSONValue?)
    case all([Condition])
    case any([Condition])
    case not(Condition)

    public enum Operator: String, Sendable, CaseIterable {
        case exists, equals, notEquals, `in`, contains, startsWith, endsWith
    }
}

/// Reads condition trees, collecting every problem with the place it was found.
public struct ConditionParser {
    /// Which `field` names are allowed, and whether `dedicatedHero` is.
    public let isAllowedField: @Sendable (String) -> Bool
    public let allowsDedicatedHero: Bool
    /// A description of the allowed fields for error messages.
    public let fieldHelp: String
    /// When set, every error is reported under this name (a workflow step id) instead of its path.
    public let reportAs: String?
    /// Bounds a new tree must keep; `nil` when re-reading one that was accepted before.
    public let limits: Limits?
    public private(set) var errors: [Problem.FieldError] = []
    /// Conditions read so far: field tests, `dedicatedHero`, `all`, `any` and `not` each count one.
    public private(set) var conditionCount = 0
    private var isTooDeep = false

    /// How large a tree may be. Each bound is checked while reading, and nothing nested deeper than
    /// `depth` is read at all, so the reading's recursion is as deep as `depth` at most.
    public struct Limits: Sendable {
        /// Deepest nesting through `all`, `any` and `not`, the outermost condition being level 1.
        public var depth: Int
        /// Most conditions in the whole tree; `nil` for no bound.
        public var conditions: Int?
        /// Longest string value, in Unicode scalars (JSON Schema's `maxLength`); `nil` for no bound.
        public var valueLength: Int?
        /// Most values in one `in` list; `nil` for no bound.
        public var listLength: Int?

        public init(depth: Int, conditions: Int? = nil, valueLength: Int? = nil, listLength: Int? = nil) {
            self.depth = depth
            self.conditions = conditions
            self.valueLength = valueLength
            self.listLength = listLength
        }
    }

    public init(
        isAllowedField: @escaping @Sendable (String) -> Bool, allowsDedicatedHero: Bool, fieldHelp: String,
        reportAs: String? = nil,
        limits: Limits? = nil
    ) {
        self.isAllowedField = isAllowedField
        self.allowsDedicatedHero = allowsDedicatedHero
        self.fieldHelp = fieldHelp
        self.reportAs = reportAs
        self.limits = limits
    }

    private mutating func fail(_ path: String, _ message: String) {
        errors.append(Problem.FieldError(field: reportAs ?? path, message: message))
    }

    /// Parses `json` found at `path` (e.g. `rule` or `rule.all[1]`).
    public mutating func parse(_ json: JSONValue, at path: String) -> Condition? {
        let before = conditionCount
        let condition = parse(json, at: path, depth: 1)
        if let most = limits?.conditions, conditionCount - before > most {
            let count = conditionCount - before
            fail(
                path, "At most \(most) conditions (field tests, all, any and not) are allowed here; this has \(count).")
            return nil
        }
        return condition
    }

    private mutating func parse(_ json: JSONValue, at path: String, depth: Int) -> Condition? {
        if let limits, depth > limits.depth {
            // Once is enough: a wide list at this depth would otherwise repeat it for every item.
            if !isTooDeep {
                fail(path, "Conditions may nest at most \(limits.depth) levels deep (all, any and not each add one).")
            }
            isTooDeep = true
            return nil
        }
        conditionCount += 1
        guard let object = json.objectValue else {
            fail(path, "A condition must be an object.")
            return nil
        }
        if let value = object["dedicatedHero"], allowsDedicatedHero {
            guard object.count == 1, let state = value.stringValue, state == "assigned" || state == "unassigned" else {
                fail(path, "dedicatedHero must be assigned or unassigned.")
                return nil
            }
            return .dedicatedHero(assigned: state == "assigned")
        }
        for combinator in ["all", "any"] {
            guard let value = object[combinator] else { continue }
            guard object.count == 1, let list = value.arrayValue, !list.isEmpty else {
                fail(path, "\(combinator) must be the only key, with a non-empty list of conditions.")
                return nil
            }
            var parts: [Condition] = []
            for (index, item) in list.enumerated() {
                if let part = parse(item, at: "\(path).\(combinator)[\(index)]", depth: depth + 1) {
                    parts.append(part)
                }
            }
            guard parts.count == list.count else { return nil }
            return combinator == "all" ? .all(parts) : .any(parts)
        }
        if let inner = object["not"] {
            guard object.count == 1 else {
                fail(path, "not must be the only key.")
                return nil
            }
            return parse(inner, at: "\(path).not", depth: depth + 1).map { .not($0) }
        }
        guard let field = object["field"]?.stringValue, let opName = object["op"]?.stringValue else {
            fail(path, "A condition is {\"field\", \"op\", \"value\"?}, all, any or not.")
            return nil
        }
        if let extra = object.keys.sorted().first(where: { !["field", "op", "value"].contains($0) }) {
            fail(path, "Unknown key \(extra) in a condition.")
            return nil
        }
        guard isAllowedField(field) else {
            fail("\(path).field", "Unknown field \(field); use \(fieldHelp).")
            return nil
        }
        guard let op = Condition.Operator(rawValue: opName) else {
            fail(
                "\(path).op",
                "Unknown op \(opName); use exists, equals, notEquals, in, contains, startsWith or endsWith.")
            return nil
        }
        let value = object["value"]
        switch op {
        case .exists:
            break
        case .in:
            guard let list = value?.arrayValue, !list.isEmpty, list.allSatisfy({ $0.text != nil && !$0.isContainer })
            else {
                fail("\(path).value", "in needs value: a non-empty list of strings.")
                return nil
            }
            if let most = limits?.listLength, list.count > most {
                fail("\(path).value", "An in list may hold at most \(most) values; this one holds \(list.count).")
                return nil
            }
            guard list.allSatisfy({ isShortEnough($0, at: "\(path).value") }) else { return nil }
        default:
            guard let value, value.text != nil, !value.isContainer else {
                fail("\(path).value", "\(opName) needs a string value.")
                return nil
            }
            guard isShortEnough(value, at: "\(path).value") else { return nil }
        }
        return .field(field, op: op, value: value)
    }

    private mutating func isShortEnough(_ value: JSONValue, at path: String) -> Bool {
        guard let most = limits?.valueLength, let text = value.stringValue, text.unicodeScalars.count > most else {
            return true
        }
        fail(path, "A value may be at most \(most) characters long; this one has \(text.unicodeScalars.count).")
        return false
    }
}

extension JSONValue {
    /// Scalars as text for conditions and templates; containers as JSON text; null as nil.
    public var text: String? {
        switch self {
        case .null: nil
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .array, .object: (try? JSONCoding.encode(self)).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    public var isContainer: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }
}
