import ConciergeJSON
import ConciergeModels
import Foundation

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
            let values = self.values(of: field)
            // Lower-casing never empties a string, so `exists` needs none; `in` compares with its list's
            // items, so it needs no `wanted` (the list's text would be its JSON, made by `JSONEncoder`).
            if op == .exists { return values.contains { !$0.isEmpty } }
            let lowered = values.map { $0.lowercased() }
            if op == .in {
                guard let list = value?.arrayValue, !list.isEmpty, !lowered.isEmpty else { return false }
                let options = Set(list.compactMap { $0.text?.lowercased() })
                return lowered.contains { options.contains($0) }
            }
            let wanted = value?.text?.lowercased() ?? ""
            switch op {
            case .equals: return lowered.contains(wanted)
            case .notEquals: return !lowered.contains(wanted)
            case .contains: return lowered.contains { $0.contains(wanted) }
            case .startsWith: return lowered.contains { $0.hasPrefix(wanted) }
            case .endsWith: return lowered.contains { $0.hasSuffix(wanted) }
            case .exists, .in: return false  // answered above
            }
        }
    }

    /// Fills `{{contact.name}}`, `{{contact.email}}`, `{{contact.phone}}`, `{{channel}}` and `{{var.X}}`;
    /// unknown placeholders become empty.
    ///
    /// Matches and trims as Foundation's `range(of:)` and `trimmingCharacters(in: .whitespaces)` did
    /// (checked against them on a million random templates), without their round trip through
    /// `NSString`, which made a reply of two or three placeholders cost ten times the scan below
    /// (measured; see BENCHMARKS.md, "Workflow overhead", from `Benchmarks/workflow.sh`).
    func fill(_ template: String) -> String {
        guard template.utf8.contains(UInt8(ascii: "{")) else { return template }
        var out = ""
        var rest = template.startIndex
        while let open = Self.pair(of: UInt8(ascii: "{"), in: template, from: rest) {
            out += template[rest..<open.lowerBound]
            guard let close = Self.pair(of: UInt8(ascii: "}"), in: template, from: open.upperBound) else {
                out += template[open.lowerBound...]
                return out
            }
            let name = Self.trimmingWhitespace(template[open.upperBound..<close.lowerBound])
            switch name {
            case "contact.name": out += contact.name ?? ""
            default: out += values(of: name).first ?? ""
            }
            rest = close.upperBound
        }
        return out + template[rest...]
    }

    /// The first two `brace`s in a row at or after `start` that are whole characters to Foundation's
    /// non-literal search: not followed by a scalar that extends a character (a combining mark, an
    /// emoji modifier, …), which would make the second brace part of a longer character.
    static func pair(of brace: UInt8, in text: String, from start: String.Index) -> Range<String.Index>? {
        let utf8 = text.utf8
        var index = start
        while index < utf8.endIndex {
            let next = utf8.index(after: index)
            guard utf8[index] == brace, next < utf8.endIndex, utf8[next] == brace else {
                index = next
                continue
            }
            let end = utf8.index(after: next)
            if end == utf8.endIndex || utf8[end] < 0x80 { return index..<end }
            let properties = text.unicodeScalars[end].properties
            if !properties.isGraphemeExtend && !properties.isEmojiModifier { return index..<end }
            index = next
        }
        return nil
    }

    /// `text` without the leading and trailing scalars `trimmingCharacters(in: .whitespaces)` removes
    /// on this platform: tab, the space separators (general category Zs) and U+200B zero width space.
    static func trimmingWhitespace(_ text: Substring) -> String {
        func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
            default: false
            }
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isWhitespace($0) }),
            let last = scalars.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
