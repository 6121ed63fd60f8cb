import Foundation
import Models

/// What a workflow run knows while it runs: the contact (updated when an `ask` saves an answer),
/// the channel, the message that woke it, and its variables.
struct WorkflowContext: Sendable, Codable, Equatable {
    var contact: RouteContact
    var channel: Channel
    var messageBody: String
    var variables: [String: JSONValue]

    /// The values of a condition field; multi-valued fields give several.
    func values(of field: String) -> [String] {
        switch field {
        case "contact.email": return contact.emails ?? []
        case "contact.phone": return contact.phones ?? []
        case "contact.tag": return contact.tags ?? []
        case "channel": return [channel.rawValue]
        case "message.body": return [messageBody]
        default:
            if field.hasPrefix("contact.attribute.") {
                return contact.attributes?[String(field.dropFirst("contact.attribute.".count))].map { [$0] } ?? []
            }
            if field.hasPrefix("var.") {
                guard let value = variables[String(field.dropFirst(4))] else { return [] }
                if case .array(let items) = value { return items.compactMap(\.text) }
                return value.text.map { [$0] } ?? []
            }
            return []
        }
    }

    func evaluate(_ condition: Condition) -> Bool {
        switch condition {
        case .dedicatedHero(let assigned): return (contact.dedicatedHero != nil) == assigned
        case .all(let parts): return parts.allSatisfy(evaluate)
        case .any(let parts): return parts.contains(where: evaluate)
        case .not(let part): return !evaluate(part)
        case .field(let field, let op, let value):
            let values = self.values(of: field).map { $0.lowercased() }
            let wanted = value?.text?.lowercased() ?? ""
            switch op {
            case .exists: return values.contains { !$0.isEmpty }
            case .equals: return values.contains(wanted)
            case .notEquals: return !values.contains(wanted)
            case .in:
                let options = Set((value?.arrayValue ?? []).compactMap { $0.text?.lowercased() })
                return values.contains { options.contains($0) }
            case .contains: return values.contains { $0.contains(wanted) }
            case .startsWith: return values.contains { $0.hasPrefix(wanted) }
            case .endsWith: return values.contains { $0.hasSuffix(wanted) }
            }
        }
    }

    /// Fills `{{contact.name}}`, `{{contact.email}}`, `{{contact.phone}}`, `{{channel}}` and `{{var.X}}`;
    /// unknown placeholders become empty.
    func fill(_ template: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            switch name {
            case "contact.name": out += contact.name ?? ""
            default: out += values(of: name).first ?? ""
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
