/// One opening of a day, in minutes after local midnight: `start` ..< `end`, with `end` up to 1440
/// (`"24:00"`, the end of the day). On the wire it is `["09:00", "17:00"]`.
public struct OpenRange: Sendable, Hashable {
    /// Minutes after local midnight, 0 ... 1439.
    public let start: Int
    /// Minutes after local midnight, `start + 1` ... 1440.
    public let end: Int

    /// A range of minutes; the calendar that holds it checks that `0 <= start < end <= 1440`.
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// `"HH:MM"` to minutes after midnight: `"00:00"` … `"23:59"` and `"24:00"`; nil for anything else.
    public static func minutes(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":") else { return nil }
        func digit(_ byte: UInt8) -> Int? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
        }
        guard let h1 = digit(bytes[0]), let h2 = digit(bytes[1]), let m1 = digit(bytes[3]), let m2 = digit(bytes[4])
        else { return nil }
        let hours = h1 * 10 + h2
        let minutes = m1 * 10 + m2
        guard minutes < 60, hours < 24 || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }

    /// Minutes after midnight as `"HH:MM"` (1440 is `"24:00"`).
    public static func text(_ minutes: Int) -> String {
        let hours = minutes / 60
        let rest = minutes % 60
        return (hours < 10 ? "0" : "") + String(hours) + ":" + (rest < 10 ? "0" : "") + String(rest)
    }

    /// `["HH:MM", "HH:MM"]`, as the wire shows it.
    public var wire: [String] { [OpenRange.text(start), OpenRange.text(end)] }
}
