import Models

/// A smart folder's rule (SPEC §6): a condition tree over conversation and contact fields.
enum FolderRule {
    static let fields: Set<String> = [
        "conversation.tag", "conversation.subject", "conversation.status", "conversation.channel", "conversation.inboxId",
        "conversation.assigneeId", "contact.tag", "contact.email",
    ]

    /// The rule, or 422 naming every bad node by its path (`rule.all[1].op`).
    static func parse(_ json: JSONValue) throws -> Condition {
        var parser = ConditionParser(
            isAllowedField: { fields.contains($0) }, allowsDedicatedHero: false,
            fieldHelp: fields.sorted().joined(separator: ", "))
        let rule = parser.parse(json, at: "rule")
        guard let rule, parser.errors.isEmpty else {
            throw Problem.unprocessable("The folder rule is not valid.", errors: parser.errors)
        }
        return rule
    }
}
