import ConciergeJSON
import ConciergeModels

/// The JSONPath subset workflows use to copy values out of a CRM record: `$`, `.name`,
/// `["name"]` and `[index]` (e.g. `$.customerType`, `$.tiers[0].name`).
struct JSONPath: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    let segments: [Segment]

    init?(_ text: String) {
        var chars = Substring(text)
        guard chars.first == "$" else { return nil }
        chars = chars.dropFirst()
        var segments: [Segment] = []
        while let first = chars.first {
            if first == "." {
                chars = chars.dropFirst()
                let name = chars.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                segments.append(.key(String(name)))
                chars = chars.dropFirst(name.count)
            } else if first == "[" {
                guard let close = chars.firstIndex(of: "]") else { return nil }
                let inside = chars[chars.index(after: chars.startIndex)..<close]
                if let index = Int(inside), index >= 0 {
                    segments.append(.index(index))
                } else if inside.count >= 2, let quote = inside.first, quote == "\"" || quote == "'",
                    inside.last == quote
                {
                    segments.append(.key(String(inside.dropFirst().dropLast())))
                } else {
                    return nil
                }
                chars = chars[chars.index(after: close)...]
            } else {
                return nil
            }
        }
        self.segments = segments
    }

    /// The value at this path, or `nil` when any step is missing.
    func evaluate(_ value: JSONValue) -> JSONValue? {
        var current = value
        for segment in segments {
            switch segment {
            case .key(let key):
                guard let next = current.objectValue?[key] else { return nil }
                current = next
            case .index(let index):
                guard let list = current.arrayValue, index < list.count else { return nil }
                current = list[index]
            }
        }
        return current
    }
}
