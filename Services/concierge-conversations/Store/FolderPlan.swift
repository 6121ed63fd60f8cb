import ConciergeModels
import Storage

/// Which part of a folder rule finds the conversations. `FolderQuery` walks one index
/// newest first and tests every row it meets, so the first page costs about `limit ÷ (share of rows
/// that match)` rows: a walk over all conversations for a rule whose matches are rare. Walking the
/// index of the rule's rarest indexed part instead bounds that by the part's own size.
///
/// SQLite cannot pick that part itself: without STAT4 statistics it does not know that one tag is on
/// 100 conversations and another on 100,000. So the candidates — top-level parts (of the rule or its
/// outermost `all`) that an index answers alone — are counted first, each up to a cap, in the same
/// read transaction as the query, cheap beside the query itself (`Benchmarks/folders.sh`; BENCHMARKS.md,
/// "Smart folders over 1,000,000 conversations").
/// Indexes that answer a part: tags, statuses, inboxes and assignees (equals, in); tag patterns,
/// through the distinct tags in use; contact emails and tags; an email's end (SPEC §6's domain
/// example) through `contact_emails.reversed`; subject words through the trigram index
/// `conversation_subjects` (migrations 5 and 6).
struct FolderPlan: Equatable {
    /// The top-level part that drives, as an index into `parts(of:)`.
    var part: Int
    /// What finds its conversations.
    var source: Source

    /// An index that answers one part alone.
    enum Source: Equatable {
        /// `conversation_tags (tag, conversation_seq)`: newest first, the walk stops after a page.
        case tag(String)
        /// `conversations (column, spam, seq)` for `status`, `inbox_id`, `assignee_id`: newest first.
        case column(String, String)
        /// Several tags, values of a column, or the conversations of the contacts matching `condition`
        /// in `table` (`contact_tags`, `contact_emails`): found whole, then sorted, so worth it only
        /// when there are few.
        case tags([String])
        case columns(String, [String])
        case contacts(table: String, condition: String, values: [String])
        /// Subjects `LIKE` the pattern, through the trigram index `conversation_subjects`.
        case subjects(String)

        var isOrdered: Bool {
            switch self {
            case .tag, .column: true
            case .tags, .columns, .contacts, .subjects: false
            }
        }

        /// Ties (every count at its cap) go to the part that is usually rarest: one agent's
        /// conversations, then a tag's, a contact group's, an inbox's, a status's.
        var rank: Int {
            switch self {
            case .tag, .tags: 1
            case .contacts, .subjects: 2
            case .column(let column, _), .columns(let column, _):
                column == "assignee_id" ? 0 : column == "inbox_id" ? 3 : 4
            }
        }
    }

    /// Counting stops here (still cheap; see the type doc): an ordered source this big is walked only
    /// until a page is full, which is quick unless the rest of the rule is rare in it…
    static let orderedCap = 5_000
    /// …and an unordered one is read and sorted whole, each row costing ~8 times a row walked…
    static let unorderedCap = 2_500
    static let unorderedWeight = 8
    /// …and contacts are counted themselves (counting their conversations would cost a probe of a
    /// large index each), at ~3 conversations apiece.
    static let contactCap = 800
    static let contactWeight = 3 * unorderedWeight
    /// …and the trigram index checks each subject it finds against the pattern, a row read apiece.
    static let subjectCap = 300

    /// The rule's top-level parts: the conditions of its outermost `all` (nested ones, and an `any` of
    /// one condition, flattened), or itself.
    static func parts(of rule: Condition) -> [Condition] {
        switch rule {
        case .all(let parts): parts.flatMap(self.parts(of:))
        case .any(let parts) where parts.count == 1: self.parts(of: parts[0])
        default: [rule]
        }
    }

    /// The part to drive from, or `nil` when none can: then `FolderQuery` walks all conversations
    /// newest first, which is right for a rule whose matches are common.
    static func choose(for rule: Condition, in connection: Connection) throws -> FolderPlan? {
        var candidates: [FolderPlan] = []
        for (index, part) in parts(of: rule).enumerated() {
            if let source = try source(of: part, in: connection) {
                candidates.append(FolderPlan(part: index, source: source))
            }
        }
        var costs: [(cost: Int, rank: Int, plan: FolderPlan)] = []
        // Unordered sources first: when none is small and only one source is ordered, that one
        // drives without being counted.
        for candidate in candidates where !candidate.source.isOrdered {
            let (cap, weight) =
                switch candidate.source {
                case .contacts: (contactCap, contactWeight)
                case .subjects: (subjectCap, unorderedWeight)
                default: (unorderedCap, unorderedWeight)
                }
            let count = try self.count(candidate.source, cap: cap, in: connection)
            if count < cap { costs.append((count * weight, candidate.source.rank, candidate)) }
        }
        let ordered = candidates.filter(\.source.isOrdered)
        if costs.isEmpty, ordered.count == 1 { return ordered[0] }
        for candidate in ordered {
            costs.append(
                (try self.count(candidate.source, cap: orderedCap, in: connection), candidate.source.rank, candidate))
        }
        return costs.min { ($0.cost, $0.rank) < ($1.cost, $1.rank) }?.plan
    }

    /// The index that answers `part` alone, if one does.
    static func source(of part: Condition, in connection: Connection) throws -> Source? {
        guard case .field(let field, let op, let value) = part else { return nil }
        let pattern = FolderQuery.pattern(op, FolderQuery.wanted(value))
        switch (field, op) {
        case ("contact.email", .endsWith), ("contact.email", .startsWith):
            return emailRange(FolderQuery.wanted(value), reversed: op == .endsWith)
        case ("contact.email", .contains):
            // No index: counting reads the emails until enough match, all of them (a few hundred thousand
            // short rows) when few do, which still costs less than a probe per conversation on a walk.
            return .contacts(
                table: "contact_emails", condition: "contact_emails.email LIKE ? ESCAPE '\\'", values: [pattern ?? ""])
        case ("conversation.subject", _):
            return subjects(op, FolderQuery.wanted(value))
        case ("conversation.tag", .contains), ("conversation.tag", .startsWith), ("conversation.tag", .endsWith):
            // The tags in use that match, read along the index one distinct value at a time.
            guard let pattern,
                let tags = try distinctValues(of: "tag", in: "conversation_tags", like: pattern, in: connection)
            else { return nil }
            return tags.count == 1 ? .tag(tags[0]) : .tags(tags)
        case ("contact.tag", .contains), ("contact.tag", .startsWith), ("contact.tag", .endsWith):
            guard let pattern,
                let tags = try distinctValues(of: "tag", in: "contact_tags", like: pattern, in: connection)
            else { return nil }
            let list = tags.map { _ in "?" }.joined(separator: ", ")
            return .contacts(table: "contact_tags", condition: "contact_tags.tag IN (\(list))", values: tags)
        default:
            break
        }
        guard op == .equals || op == .in else { return nil }
        let values = op == .equals ? [FolderQuery.wanted(value)] : FolderQuery.options(value)
        guard !values.isEmpty else { return nil }
        let list = values.map { _ in "?" }.joined(separator: ", ")
        switch field {
        case "conversation.tag":
            return values.count == 1 ? .tag(values[0]) : .tags(values)
        case "contact.tag":
            return .contacts(table: "contact_tags", condition: "contact_tags.tag IN (\(list))", values: values)
        case "contact.email":
            return .contacts(table: "contact_emails", condition: "contact_emails.email IN (\(list))", values: values)
        case "conversation.status", "conversation.inboxId", "conversation.assigneeId":
            // The empty value stands for "none" (NULL), which these indexes do not answer as such.
            guard !values.contains("") else { return nil }
            let column =
                field == "conversation.status" ? "status" : field == "conversation.inboxId" ? "inbox_id" : "assignee_id"
            return values.count == 1 ? .column(column, values[0]) : .columns(column, values)
        default:
            return nil
        }
    }

    /// Emails starting (or, through `reversed`, ending) with `text`: a range of the index, in which the
    /// matches are exactly those strings that have `text` as prefix; `LIKE` checks once more.
    private static func emailRange(_ text: String, reversed: Bool) -> Source? {
        let prefix = reversed ? FolderQuery.reversed(text) : text
        guard let end = FolderQuery.successor(prefix) else { return nil }
        let column = reversed ? "contact_emails.reversed" : "contact_emails.email"
        let pattern = reversed ? "%" + FolderQuery.escape(text) : FolderQuery.escape(text) + "%"
        return .contacts(
            table: "contact_emails",
            condition: "\(column) >= ? AND \(column) < ? AND contact_emails.email LIKE ? ESCAPE '\\'",
            values: [prefix, end, pattern])
    }

    /// Most distinct values `distinctValues` reads before giving up.
    static let distinctLimit = 2_000

    /// The distinct values of `column` (the first of an index of `table`) that are `LIKE` the
    /// pattern, reading one index seek per distinct value; `nil` beyond `distinctLimit` of them.
    private static func distinctValues(
        of column: String, in table: String, like pattern: String, in connection: Connection
    )
        throws -> [String]?
    {
        var matching: [String] = []
        var seen = 0
        try connection.forEach(
            """
            WITH RECURSIVE distinct_values(value) AS (
                SELECT min(\(column)) FROM \(table)
                UNION ALL
                SELECT (SELECT min(\(column)) FROM \(table) WHERE \(column) > value) FROM distinct_values WHERE value IS NOT NULL
                LIMIT \(distinctLimit + 1))
            SELECT value, value LIKE ? ESCAPE '\\' FROM distinct_values WHERE value IS NOT NULL
            """, [pattern]
        ) { row in
            seen += 1
            if row.bool(1) { matching.append(row.string(0)) }
        }
        return seen > distinctLimit ? nil : matching
    }

    /// Subjects matching a pattern of at least 3 characters (what the trigram index can answer), and
    /// without `%`, `_` or `\` (it answers `LIKE` without `ESCAPE` only).
    private static func subjects(_ op: Condition.Operator, _ text: String) -> Source? {
        guard text.unicodeScalars.count >= 3, !text.contains(where: { "%_\\".contains($0) }) else { return nil }
        switch op {
        case .equals: return .subjects(text)
        case .contains: return .subjects("%" + text + "%")
        case .startsWith: return .subjects(text + "%")
        case .endsWith: return .subjects("%" + text)
        case .exists, .notEquals, .in: return nil
        }
    }

    /// How many conversations (for `.contacts`, contacts) the source finds, counted up to `cap`.
    private static func count(_ source: Source, cap: Int, in connection: Connection) throws -> Int {
        let list = { (values: [String]) in values.map { _ in "?" }.joined(separator: ", ") }
        let (inner, values): (String, [String]) =
            switch source {
            case .tag(let tag): ("SELECT 1 FROM conversation_tags WHERE tag = ?", [tag])
            case .tags(let tags): ("SELECT 1 FROM conversation_tags WHERE tag IN (\(list(tags)))", tags)
            case .column(let column, let value):
                ("SELECT 1 FROM conversations WHERE \(column) = ? AND spam = 0", [value])
            case .columns(let column, let options):
                ("SELECT 1 FROM conversations WHERE \(column) IN (\(list(options))) AND spam = 0", options)
            case .contacts(let table, let condition, let values): ("SELECT 1 FROM \(table) WHERE \(condition)", values)
            case .subjects(let pattern): ("SELECT 1 FROM conversation_subjects WHERE subject_lower LIKE ?", [pattern])
            }
        var bound: [any SQLBindable] = values
        bound.append(cap)
        return try connection.scalarInt("SELECT count(*) FROM (\(inner) LIMIT ?)", bound) ?? 0
    }
}
