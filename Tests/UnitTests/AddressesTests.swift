import TestSupport
import Testing

@testable import ConciergeModels

/// The byte path `Addresses.email`/`e164` take for ASCII input gives exactly the answers of the
/// general Unicode-aware functions.
@Suite struct AddressesTests {
    @Test(arguments: [
        "ada@example.com", " Ada@Example.COM ", "\tada@example.com\r\n", "ada@example", "ada@.example.com",
        "ada@example.com.",
        "ada@exa..mple.com", "@example.com", "ada@", "a@b@example.com", "ada lovelace@example.com", "ada@exa mple.com",
        "a<b@example.com", "a\"b@example.com", "a\u{0}b@example.com", "a\u{7F}@example.com",
        String(repeating: "a", count: 64) + "@example.com",
        String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 248) + ".com", "",
        "   ",
        "élodie@example.com", "ada@example.com\u{A0}", "\u{2028}ada@example.com", "ADA@EXAMPLE.COM",
    ])
    func emailAgrees(raw: String) {
        #expect(Addresses.email(raw) == Addresses.generalEmail(raw))
    }

    @Test(arguments: [
        "+4512345678", "+45 12 34 56 78", "+45-1234-5678", "+45 (12) 34.56.78", "+45[12]345678", "\t+4512345678",
        "4512345678", "+0512345678", "+123456", "+1234567", "+123456789012345", "+1234567890123456", "+45 12 34 56 7x",
        "+45\u{A0}12345678", "+٤٥١٢٣٤٥٦٧٨", "", "+", "++4512345678", "+45\r\n12345678",
    ])
    func phoneAgrees(raw: String) {
        #expect(Addresses.e164(raw) == Addresses.generalE164(raw))
    }

    @Test func randomAddressesAgree() {
        let alphabet = Array("aZ09@.-_+ \t\r\n()<>[],;:\\\"\u{0}\u{7F}é\u{A0}\u{2028}")
        var random = SplitMix64(seed: 99)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 24)
            let raw = String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            #expect(Addresses.email(raw) == Addresses.generalEmail(raw), "\(raw.debugDescription)")
            #expect(Addresses.e164(raw) == Addresses.generalE164(raw), "\(raw.debugDescription)")
            let shaped = "x" + raw + "@example.com"
            #expect(Addresses.email(shaped) == Addresses.generalEmail(shaped), "\(shaped.debugDescription)")
            let dialled = "+45" + raw.filter { !$0.isLetter } + "1234567"
            #expect(Addresses.e164(dialled) == Addresses.generalE164(dialled), "\(dialled.debugDescription)")
        }
    }
}
