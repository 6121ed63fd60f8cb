/// The stored form of a list in one TEXT column: items joined by U+001F, an item's parts (a handle's
/// channel and value, an attribute's key and value) by U+001E, and inside a value those two and `%`
/// written `%1F`, `%1E`, `%25`. So no value, whatever it holds, can be read back as a boundary: a
/// value with a separator in it stays one value. (Services refuse control characters before they
/// store anything, so in practice only `%` is ever escaped.) One row read still gives a whole list,
/// and `LIKE` finds a value's text in the column once the pattern is `escape`d the same way.
public enum ListCoding {
    static let item: UInt8 = 0x1F
    static let part: UInt8 = 0x1E
    static let percent = UInt8(ascii: "%")

    public static func join(_ items: [String]) -> String {
        var out: [UInt8] = []
        for (i, value) in items.enumerated() {
            if i > 0 { out.append(item) }
            append(value, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func join(_ items: [[String]]) -> String {
        var out: [UInt8] = []
        for (i, parts) in items.enumerated() {
            if i > 0 { out.append(item) }
            for (j, value) in parts.enumerated() {
                if j > 0 { out.append(part) }
                append(value, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The items of a list of single values (written by `join(_: [String])`).
    public static func values(_ text: String) -> [String] { split(text).map { $0.joined() } }

    /// Each item's parts; an empty column is an empty list.
    public static func split(_ text: String) -> [[String]] {
        guard !text.isEmpty else { return [] }
        var items: [[String]] = []
        var parts: [String] = []
        var start = text.utf8.startIndex
        var index = start
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == item || byte == part {
                parts.append(unescape(utf8[start..<index]))
                if byte == item {
                    items.append(parts)
                    parts = []
                }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        parts.append(unescape(utf8[start..<index]))
        items.append(parts)
        return items
    }

    /// `value` as it appears inside a stored list, for a `LIKE` pattern that searches the column.
    public static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: needsEscape) else { return value }
        var out: [UInt8] = []
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool { byte == percent || byte == item || byte == part }

    private static func append(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case percent: out += [percent, UInt8(ascii: "2"), UInt8(ascii: "5")]
            case item: out += [percent, UInt8(ascii: "1"), UInt8(ascii: "F")]
            case part: out += [percent, UInt8(ascii: "1"), UInt8(ascii: "E")]
            default: out.append(byte)
            }
        }
    }

    private static func unescape(_ bytes: Substring.UTF8View) -> String {
        guard bytes.contains(percent) else { return String(Substring(bytes)) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            guard byte == percent, bytes.distance(from: index, to: bytes.endIndex) >= 2 else {
                out.append(byte)
                continue
            }
            let code = (bytes[index], bytes[bytes.index(after: index)])
            switch code {
            case (UInt8(ascii: "2"), UInt8(ascii: "5")): out.append(percent)
            case (UInt8(ascii: "1"), UInt8(ascii: "F")): out.append(item)
            case (UInt8(ascii: "1"), UInt8(ascii: "E")): out.append(part)
            default:
                out.append(byte)
                continue
            }
            index = bytes.index(index, offsetBy: 2)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
