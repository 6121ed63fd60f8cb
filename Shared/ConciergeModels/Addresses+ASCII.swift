/// `Addresses.email` and `Addresses.e164` worked out on bytes for ASCII input, as nearly all is:
/// Foundation's trimming and per-`Character` checks cost more than the rest of a directory lookup or
/// an import line. The answers are those of `generalEmail`/`generalE164` (checked in `AddressesTests`).
extension Addresses {
    /// `generalEmail(_:)`'s answer for ASCII `bytes`.
    static func asciiEmail(_ bytes: [UInt8]) -> String? {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else {
            return nil
        }
        let email = bytes[first...last].map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
        guard email.count <= 254, let at = email.firstIndex(of: UInt8(ascii: "@")),
            email.lastIndex(of: UInt8(ascii: "@")) == at
        else { return nil }
        let local = email[..<at]
        let domain = email[(at + 1)...]
        let dot = UInt8(ascii: ".")
        guard !local.isEmpty, local.count <= 64, domain.contains(dot), domain.first != dot, domain.last != dot,
            !zip(domain, domain.dropFirst()).contains(where: { $0 == dot && $1 == dot }),
            !email.contains(where: { isSpace($0) || isForbiddenInEmail($0) }), isDotAtom(local),
            hasNoHyphenAtLabelEdge(domain)
        else { return nil }
        return String(decoding: email, as: UTF8.self)
    }

    /// `generalE164(_:)`'s answer for ASCII `bytes`.
    static func asciiE164(_ bytes: [UInt8]) -> String? {
        let kept = bytes.filter { !isDroppedFromPhone($0) }
        let digits = kept.dropFirst()
        guard kept.first == UInt8(ascii: "+"), (7...15).contains(digits.count),
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            digits.first != UInt8(ascii: "0")
        else { return nil }
        return String(decoding: kept, as: UTF8.self)
    }

    /// ASCII whitespace and line ends, as Foundation's `whitespacesAndNewlines` and `Character.isWhitespace` see them.
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func isForbiddenInEmail(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","),
            UInt8(ascii: ";"),
            UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        // Control characters (StoredText's rule; ASCII has no C1): NUL, the storage separators, ESC.
        case 0x00..<0x20, 0x7F:
            true
        default: false
        }
    }

    private static func isDroppedFromPhone(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
            UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "\t"):
            true
        default: false
        }
    }
}
