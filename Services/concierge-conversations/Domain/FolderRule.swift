import ConciergeJSON
import ConciergeModels

/// A smart folder's rule (SPEC §6): a condition tree over conversation and contact fields.
enum FolderRule {
    static let fields: Set<String> = [
        "conversation.tag", "conversation.subject", "conversation.status", "conversation.channel",
        "conversation.inboxId",
        "conversation.assigneeId", "contact.tag", "contact.email",
    ]

    /// What a new rule may hold, so that every accepted rule compiles to a query SQLite runs. A rule
    /// becomes one `WHERE` (see `FolderQuery`) whose expression grows about a level per condition, and
    /// SQLite refuses one deeper than 1,000 ("Expression tree is too large": a rule of 1,000 conditions
    /// was saved and then failed every listing); its parser's stack overflows past some 30 nested
    /// parentheses (one per `all`/`any` level, one per side-table probe); it refuses a `LIKE` pattern
    /// over 50,000 bytes and more than 32,766 bound values. 100 conditions nested 8 deep, values of
    /// 1,000 scalars (a pattern of at most 4,002 bytes) and `in` lists of 100 (10,000 bound values at
    /// most) stay well inside all of them, and beyond any folder a person writes; the largest such
    /// rules are tested against the real service.
    static let limits = ConditionParser.Limits(depth: 8, conditions: 100, valueLength: 1_000, listLength: 100)

    /// The rule, or 422 naming every bad node by its path (`rule.all[1].op`). A new rule must keep
    /// `limits`; a stored one (`isNew` false) is read as it was accepted.
    static func parse(_ json: JSONValue, isNew: Bool = false) throws -> Condition {
        var parser = ConditionParser(
            isAllowedField: { fields.contains($0) }, allowsDedicatedHero: false,
            fieldHelp: fields.sorted().joined(separator: ", "), limits: isNew ? limits : nil)
        let rule = parser.parse(json, at: "rule")
        guard let rule, parser.errors.isEmpty else {
            throw Problem.unprocessable("The folder rule is not valid.", errors: parser.errors)
        }
        return rule
    }
}
