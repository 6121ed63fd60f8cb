import Foundation

/// New entity ids: UUIDv7 strings (RFC 9562), lower-case.
///
/// Time-ordered on purpose: the 48-bit millisecond and a 12-bit fraction of it come first, so ids
/// rise with time and a table's id index is appended to instead of having a random page rewritten
/// by every insert (fewer pages per commit, less WAL). The remaining 62 bits are random, from one
/// getrandom(2) — Foundation's `UUID()` opens and reads /dev/urandom on every call on Linux, which
/// showed up as two `openat` per inbound message.
public enum Identifier {
    public static func make(now: Date = Date()) -> String {
        var random = SystemRandomNumberGenerator()
        return make(now: now, using: &random)
    }

    /// An id whose random bits come from `random` — a `BufferedRandomNumberGenerator` for a loop that
    /// makes many (an import).
    public static func make(now: Date = Date(), using random: inout some RandomNumberGenerator) -> String {
        let milliseconds = max(0, now.timeIntervalSince1970 * 1000)
        let fraction = UInt64((milliseconds - milliseconds.rounded(.down)) * 4096) & 0xFFF
        let high = UInt64(milliseconds) << 16 | 0x7000 | fraction
        let low = random.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[index] = UInt8(ascii: "-")
                    index += 1
                }
                let word = nibble < 16 ? high : low
                buffer[index] = hexDigits[Int(word >> (60 - 4 * UInt64(nibble % 16)) & 0xF)]
                index += 1
            }
            return index
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
