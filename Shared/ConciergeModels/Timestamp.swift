import ConciergeCore
import Foundation

/// RFC 3339 UTC timestamps with milliseconds (`2026-11-22T14:05:09.123Z`), the one format
/// stored and sent everywhere (SPEC §2). Lexical order equals time order.
public enum Timestamp {
    /// Now, as the process's wall clock reads it (`WallClock`).
    public static func now() -> String {
        let millis = WallClock.nowMilliseconds()
        return format(seconds: time_t(millis / 1000), milliseconds: Int(millis % 1000))
    }

    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return format(seconds: time_t(millis / 1000), milliseconds: Int(millis % 1000))
    }

    private static func format(seconds: time_t, milliseconds: Int) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = ""
        out.reserveCapacity(24)
        pad(Int(parts.tm_year) + 1900, 4, &out)
        out += "-"
        pad(Int(parts.tm_mon) + 1, 2, &out)
        out += "-"
        pad(Int(parts.tm_mday), 2, &out)
        out += "T"
        pad(Int(parts.tm_hour), 2, &out)
        out += ":"
        pad(Int(parts.tm_min), 2, &out)
        out += ":"
        pad(Int(parts.tm_sec), 2, &out)
        out += "."
        pad(milliseconds, 3, &out)
        out += "Z"
        return out
    }

    private static func pad(_ value: Int, _ width: Int, _ out: inout String) {
        let text = String(value)
        if text.count < width { out += String(repeating: "0", count: width - text.count) }
        out += text
    }

    /// True for a timestamp exactly as `now()` writes it (`2026-11-22T14:05:09.123Z`): RFC 3339 UTC with
    /// milliseconds, the form stored values are compared in as text, so ordering them is ordering time.
    public static func isCanonical(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.count == 24 else { return false }
        for (i, byte) in bytes.enumerated() {
            let expected: UInt8? =
                switch i {
                case 4, 7: UInt8(ascii: "-")
                case 10: UInt8(ascii: "T")
                case 13, 16: UInt8(ascii: ":")
                case 19: UInt8(ascii: ".")
                case 23: UInt8(ascii: "Z")
                default: nil
                }
            if let expected {
                guard byte == expected else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
            }
        }
        return parse(text) != nil
    }

    /// Parses an RFC 3339 timestamp (with or without fraction, `Z` or an offset).
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
