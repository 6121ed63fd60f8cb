import Models
import Storage

/// Compiles a folder rule to one SQL condition over `conversations`, so matching runs in SQLite on
/// its indexes and a folder over a million conversations pages quickly. String operators are
/// case-insensitive, also beyond ASCII: values are lower-cased here, and stored tags, emails,
/// subjects (`subject_lower`), statuses, channels and ids are lower-case already.
struct FolderQuery {
    private(set) var sql = ""
    private(set) var values: [any SQLBindable] = []

    init(_ rule: Condition) {
        sql = compile(rule)
    }

    private mutating func compile(_ rule: Condition) -> String {
        switch rule {
        case .all(let parts): return "(" + parts.map { compile($0) }.joined(separator: " AND ") + ")"
        case .any(let parts): return "(" + parts.map { compile($0) }.joined(separator: " OR ") + ")"
        case .not(let part): return "NOT " + compile(part)
        case .dedicatedHero: return "0"
        case .field(let field, let op, let value):
            let wanted = value?.text?.lowercased() ?? ""
            let options = (value?.arrayValue ?? []).compactMap { $0.text?.lowercased() }
            switch field {
            case "conversation.tag":
                return membership("seq IN (SELECT conversation_seq FROM conversation_tags WHERE tag", op, wanted, options, exists: "tags != ''")
            case "contact.tag":
                return membership("contact_id IN (SELECT contact_id FROM contact_tags WHERE tag", op, wanted, options, exists: "contact_id IN (SELECT contact_id FROM contact_tags)")
            case "contact.email":
                return membership("contact_id IN (SELECT contact_id FROM contact_emails WHERE email", op, wanted, options, exists: "contact_id IN (SELECT contact_id FROM contact_emails)")
            case "conversation.subject":
                return column("coalesce(subject_lower, '')", op, wanted, options)
            case "conversation.status": return column("status", op, wanted, options)
            case "conversation.channel": return column("channel", op, wanted, options)
            case "conversation.inboxId": return column("coalesce(inbox_id, '')", op, wanted, options)
            default: return column("coalesce(assignee_id, '')", op, wanted, options)
            }
        }
    }

    /// A multi-valued field held in a side table: matches when any value does.
    private mutating func membership(_ prefix: String, _ op: Condition.Operator, _ wanted: String, _ options: [String], exists: String) -> String {
        switch op {
        case .exists: return exists
        case .equals: return bind(prefix + " = ?)", wanted)
        case .notEquals: return "NOT " + bind(prefix + " = ?)", wanted)
        case .in:
            values += options
            return prefix + " IN (" + options.map { _ in "?" }.joined(separator: ", ") + "))"
        case .contains: return bind(prefix + " LIKE ? ESCAPE '\\')", "%" + Self.escape(wanted) + "%")
        case .startsWith: return bind(prefix + " LIKE ? ESCAPE '\\')", Self.escape(wanted) + "%")
        case .endsWith: return bind(prefix + " LIKE ? ESCAPE '\\')", "%" + Self.escape(wanted))
        }
    }

    private mutating func column(_ expression: String, _ op: Condition.Operator, _ wanted: String, _ options: [String]) -> String {
        switch op {
        case .exists: return "\(expression) != ''"
        case .equals: return bind("\(expression) = ?", wanted)
        case .notEquals: return bind("\(expression) != ?", wanted)
        case .in:
            values += options
            return "\(expression) IN (" + options.map { _ in "?" }.joined(separator: ", ") + ")"
        case .contains: return bind("\(expression) LIKE ? ESCAPE '\\'", "%" + Self.escape(wanted) + "%")
        case .startsWith: return bind("\(expression) LIKE ? ESCAPE '\\'", Self.escape(wanted) + "%")
        case .endsWith: return bind("\(expression) LIKE ? ESCAPE '\\'", "%" + Self.escape(wanted))
        }
    }

    private mutating func bind(_ fragment: String, _ value: String) -> String {
        values.append(value)
        return fragment
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
