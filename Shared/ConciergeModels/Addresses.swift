import Foundation

/// The one normalisation of emails and phone numbers, shared by contacts and the CRM directory.
public enum Addresses {
    /// Trimmed, lower-cased, and shaped like `local@domain.tld` (no spaces or control characters, ≤ 254
    /// bytes, no dot at either end of the local part or two in a row anywhere, no domain label that starts
    /// or ends with a hyphen); else `nil`.
    /// ASCII input — nearly all — is worked out on bytes (`Addresses+ASCII.swift`), with the same answers.
    public static func email(_ raw: String) -> String? {
        raw.utf8.allSatisfy { $0 < 0x80 } ? asciiEmail(Array(raw.utf8)) : generalEmail(raw)
    }

    /// E.164 (`+4512345678`): spaces, tabs, dashes, dots and brackets dropped; `+` then 7–15 digits; else `nil`.
    public static func e164(_ raw: String) -> String? {
        raw.utf8.allSatisfy { $0 < 0x80 } ? asciiE164(Array(raw.utf8)) : generalE164(raw)
    }

    /// `email(_:)` for any input, through Foundation's Unicode-aware trimming and `Character` checks.
    static func generalEmail(_ raw: String) -> String? {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64,
            parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline || "<>(),;:\\\"[]".contains($0) }),
            StoredText.isAllowed(email), isDotAtom(parts[0].utf8), hasNoHyphenAtLabelEdge(parts[1].utf8)
        else { return nil }
        return email
    }

    /// A local part's dots: none first or last, never two in a row (RFC 5322 dot-atom).
    static func isDotAtom<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bool {
        let dot = UInt8(ascii: ".")
        return bytes.first != dot && bytes.last != dot
            && !zip(bytes, bytes.dropFirst()).contains(where: { $0 == dot && $1 == dot })
    }

    /// True unless some label of the domain starts or ends with a hyphen (RFC 1035), read in one pass.
    static func hasNoHyphenAtLabelEdge<Bytes: BidirectionalCollection<UInt8>>(_ domain: Bytes) -> Bool {
        let dot = UInt8(ascii: ".")
        let hyphen = UInt8(ascii: "-")
        return domain.first != hyphen && domain.last != hyphen
            && !zip(domain, domain.dropFirst()).contains(where: {
                ($0 == dot && $1 == hyphen) || ($0 == hyphen && $1 == dot)
            })
    }

    /// `e164(_:)` for any input.
    static func generalE164(_ raw: String) -> String? {
        let kept = raw.filter { !" -().[]\t".contains($0) }
        guard kept.hasPrefix("+") else { return nil }
        let digits = kept.dropFirst()
        guard (7...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0"
        else {
            return nil
        }
        return kept
    }
}
