import ConciergeJSON
import ConciergeModels
import Storage

/// Compiles a folder rule to one SELECT over `conversations`, newest first and paged by `seq`, so
/// matching runs in SQLite on its indexes and a folder over a million conversations pages quickly.
/// String operators are case-insensitive, also beyond ASCII: values are lower-cased here, and stored
/// tags, emails, subjects (`subject_lower`), statuses, channels and ids are lower-case already.
///
/// The rows are found by walking one index newest first until a page is full (see `FolderPlan`):
/// the plan's driving part, or with none all conversations by `seq`. Every other part is a test on
/// the row in hand: a side table (tags, contact emails and tags) through a correlated `EXISTS`, one
/// index probe per row, and a column behind a unary `+`, which keeps SQLite from walking its index
/// (and sorting) instead. An `IN (SELECT …)` list would be built whole on every request: 100,000
/// rows for a common tag.
struct FolderQuery {
    private(set) var sql = ""
    private(set) var values: [any SQLBindable] = []

    init(_ rule: Condition, plan: FolderPlan?, columns: String, limit: Int, before cursor: Int64?) {
        let parts = FolderPlan.parts(of: rule)
        var conditions = ["conversations.spam = 0"]
        var from = "conversations"
        var order = "conversations.seq"
        if let plan, case .tag(let tag) = plan.source {
            // Newest first along (tag, conversation_seq): no sort, and the walk stops after a page.
            from = "conversation_tags AS driver CROSS JOIN conversations ON conversations.seq = driver.conversation_seq"
            order = "driver.conversation_seq"
            conditions = ["driver.tag = ?"] + conditions
            values.append(tag)
        } else if let plan {
            conditions.append(drive(plan.source))
        }
        // The other parts, cheapest test first: SQLite tests a row's terms in the order written. The
        // trigram index's answer is tested once more, so the rule decides, as on a walk.
        let others = parts.enumerated().filter {
            if case .subjects = plan?.source { return true }
            return $0.offset != plan?.part
        }.map(\.element)
        for part in Self.cheapestFirst(others) { conditions.append(compile(part)) }
        if let cursor {
            conditions.append("\(order) < ?")
            values.append(cursor)
        }
        values.append(limit + 1)
        sql =
            "SELECT \(columns) FROM \(from) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) DESC LIMIT ?"
    }

    /// The `LIKE` pattern (escaped with `\`) of a string operator, or `nil` for another.
    static func pattern(_ op: Condition.Operator, _ wanted: String) -> String? {
        switch op {
        case .contains: "%" + escape(wanted) + "%"
        case .startsWith: escape(wanted) + "%"
        case .endsWith: "%" + escape(wanted)
        case .exists, .equals, .notEquals, .in: nil
        }
    }

    /// A rule value as matched: text, lower-cased.
    static func wanted(_ value: JSONValue?) -> String { value?.text?.lowercased() ?? "" }

    /// The list of an `in` rule, lower-cased.
    static func options(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap { $0.text?.lowercased() }
    }

    /// The driving part, written so SQLite finds its rows through its index.
    private mutating func drive(_ source: FolderPlan.Source) -> String {
        switch source {
        case .tag(let tag): return drive(tags: [tag])
        case .tags(let tags): return drive(tags: tags)
        case .column(let column, let value): return bind("conversations.\(column) = ?", [value])
        case .columns(let column, let options):
            return bind("conversations.\(column) IN (\(Self.list(options)))", options)
        case .contacts(let table, let condition, let values):
            return bind(
                "conversations.contact_id IN (SELECT \(table).contact_id FROM \(table) WHERE \(condition))", values)
        case .subjects(let pattern):
            return bind(
                "conversations.seq IN (SELECT rowid FROM conversation_subjects WHERE subject_lower LIKE ?)", [pattern])
        }
    }

    /// How dear a test of the row in hand is: a column 0, the subject 1, the row's tags 2 (one probe
    /// near the row), the contact's emails or tags 3 (a probe anywhere in their index).
    static func weight(_ rule: Condition) -> Int {
        switch rule {
        case .all(let parts), .any(let parts): parts.map(weight).max() ?? 0
        case .not(let part): weight(part)
        case .dedicatedHero: 0
        case .field(let field, _, _):
            field.hasPrefix("contact.") ? 3 : field == "conversation.tag" ? 2 : field == "conversation.subject" ? 1 : 0
        }
    }

    /// `parts` in the order their tests are cheapest (stable among equals); `AND`/`OR` do not care.
    static func cheapestFirst(_ parts: [Condition]) -> [Condition] {
        parts.enumerated().sorted { (weight($0.element), $0.offset) < (weight($1.element), $1.offset) }.map(\.element)
    }

    private mutating func drive(tags: [String]) -> String {
        bind(
            "conversations.seq IN (SELECT conversation_seq FROM conversation_tags WHERE tag IN (\(Self.list(tags))))",
            tags)
    }

    private mutating func compile(_ rule: Condition) -> String {
        switch rule {
        case .all(let parts):
            return "(" + Self.cheapestFirst(parts).map { compile($0) }.joined(separator: " AND ") + ")"
        case .any(let parts): return "(" + Self.cheapestFirst(parts).map { compile($0) }.joined(separator: " OR ") + ")"
        case .not(let part): return "NOT " + compile(part)
        case .dedicatedHero: return "0"
        case .field(let field, let op, let value):
            let wanted = Self.wanted(value)
            let options = Self.options(value)
            switch field {
            case "conversation.tag":
                return membership(
                    "conversation_tags WHERE conversation_seq = conversations.seq", "tag", op, wanted, options,
                    exists: "+conversations.tags != ''")
            case "contact.tag":
                return membership(
                    "contact_tags WHERE contact_id = conversations.contact_id", "tag", op, wanted, options)
            case "contact.email":
                return membership(
                    "contact_emails WHERE contact_id = conversations.contact_id", "email", op, wanted, options)
            case "conversation.subject":
                return column("coalesce(conversations.subject_lower, '')", op, wanted, options)
            case "conversation.status": return column("conversations.status", op, wanted, options)
            case "conversation.channel": return column("conversations.channel", op, wanted, options)
            case "conversation.inboxId": return column("coalesce(conversations.inbox_id, '')", op, wanted, options)
            default: return column("coalesce(conversations.assignee_id, '')", op, wanted, options)
            }
        }
    }

    /// A multi-valued field held in a side table, probed for the row in hand: matches when any value does.
    private mutating func membership(
        _ table: String, _ column: String, _ op: Condition.Operator, _ wanted: String, _ options: [String],
        exists: String? = nil
    ) -> String {
        let probe = "EXISTS (SELECT 1 FROM \(table)"
        switch op {
        case .exists: return exists ?? probe + ")"
        case .equals: return bind("\(probe) AND \(column) = ?)", [wanted])
        case .notEquals: return bind("NOT \(probe) AND \(column) = ?)", [wanted])
        case .in: return bind("\(probe) AND \(column) IN (\(Self.list(options))))", options)
        case .contains, .startsWith, .endsWith:
            return bind("\(probe) AND \(column) LIKE ? ESCAPE '\\')", [Self.pattern(op, wanted) ?? ""])
        }
    }

    /// A column of the row in hand; the unary `+` keeps its index out of the plan.
    private mutating func column(_ expression: String, _ op: Condition.Operator, _ wanted: String, _ options: [String])
        -> String
    {
        switch op {
        case .exists: return "+\(expression) != ''"
        case .equals: return bind("+\(expression) = ?", [wanted])
        case .notEquals: return bind("+\(expression) != ?", [wanted])
        case .in: return bind("+\(expression) IN (\(Self.list(options)))", options)
        case .contains, .startsWith, .endsWith:
            return bind("+\(expression) LIKE ? ESCAPE '\\'", [Self.pattern(op, wanted) ?? ""])
        }
    }

    private mutating func bind(_ fragment: String, _ bound: [String]) -> String {
        values += bound
        return fragment
    }

    private static func list(_ values: [String]) -> String { values.map { _ in "?" }.joined(separator: ", ") }

    /// `text` with its Unicode scalars in reverse order: a suffix of `text` is a prefix of this.
    static func reversed(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.reversed())
        return String(scalars)
    }

    /// The least string above every string that starts with `prefix` (its last scalar plus one, in
    /// SQLite's byte order, which is scalar order): `>= prefix AND < successor` is the prefix's range.
    /// `nil` for an empty prefix or one ending in U+10FFFF.
    static func successor(_ prefix: String) -> String? {
        guard let last = prefix.unicodeScalars.last, last.value < 0x10FFFF else { return nil }
        var scalars = String.UnicodeScalarView(prefix.unicodeScalars.dropLast())
        scalars.append(Unicode.Scalar(last.value == 0xD7FF ? 0xE000 : last.value + 1) ?? "\u{E000}")
        return String(scalars)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
