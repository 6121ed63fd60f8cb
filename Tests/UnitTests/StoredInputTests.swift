import ConciergeJSON
import ConciergeModels
import Foundation
import Storage
import Testing

@testable import ConciergeModels

/// The one check of stored text, the list storage that no value can break, and the email, JSON and
/// timestamp rules built on them.
@Suite struct StoredInputTests {
    @Test(arguments: [
        "\u{0}", "a\u{1}", "\u{1B}[2J", "x\u{1E}y", "x\u{1F}victim@corp.example", "\u{7F}", "\u{80}", "a\u{85}b",
        "\u{9F}",
        "tab\there", "line\nbreak", "cr\r",
    ])
    func storedTextRefusesControlCharactersOnOneLine(text: String) {
        #expect(!StoredText.isAllowed(text))
    }

    @Test func storedTextAllowsLineBreaksOnlyWhereAskedAndAllOtherText() {
        for text in ["tab\there", "two\nlines", "crlf\r\n"] {
            #expect(StoredText.isAllowed(text, lines: .multiline))
        }
        for text in ["\u{0}", "\u{1F}", "\u{1B}", "\u{85}"] {
            #expect(!StoredText.isAllowed("body \(text)", lines: .multiline))
        }
        // C2 followed by a non-C1 byte (U+00A0, U+00BF), and three- and four-byte scalars, are ordinary text.
        for text in ["", "Ada", "Ørsted", "\u{A0}", "¿", "€", "👩‍💻", "\u{2028}", "ÿ\u{100}"] {
            #expect(StoredText.isAllowed(text), "\(text.unicodeScalars.map(\.value))")
        }
    }

    @Test func lengthCountsUnicodeScalarsAndStopsPastTheLimit() {
        #expect(!StoredText.exceeds(String(repeating: "é", count: 200), maxLength: 200))
        #expect(StoredText.exceeds(String(repeating: "é", count: 201), maxLength: 200))
        #expect(!StoredText.exceeds(String(repeating: "😀", count: 100), maxLength: 100))
        #expect(StoredText.exceeds(String(repeating: "x", count: 1 << 20), maxLength: 200))
    }

    @Test func aStoredListReadsBackItsValuesWhateverTheyHold() {
        let values = ["x\u{1F}victim@corp.example", "50%", "%1F", "a\u{1E}b", "", "plain", "%", "%2", "%25%"]
        #expect(ListCoding.split(ListCoding.join(values)).map { $0 } == values.map { [$0] })
        let pairs = [["chat", "a\u{1E}b"], ["k\u{1F}", "%v"], ["", ""]]
        #expect(ListCoding.split(ListCoding.join(pairs)) == pairs)
        #expect(ListCoding.split("") == [])
        // One poisoned value is one item, never two.
        #expect(ListCoding.split(ListCoding.join(["x\u{1F}victim@corp.example"])).count == 1)
        #expect(ListCoding.escape("50%") == "50%25")
        #expect(ListCoding.escape("plain") == "plain")
    }

    /// Lists written before values were escaped read back the same after the migration: only their

    /// `%` changes form, and the search still finds a value with a `%` in it.

    @Test(arguments: [
        "x\u{1F}victim@corp.example", "x\u{0}y@corp.example", "esc\u{1B}@corp.example", ".x@corp.example",
        "x.@corp.example",
        "x..y@corp.example", "x@-corp.example", "x@corp-.example", "x@corp.-example", "x@corp.example-",
        "é.@corp.example",
        "é@-corp.example", "é\u{85}@corp.example",
    ])
    func emailsWithControlCharactersStrayDotsOrHyphenEdgedLabelsAreRefused(raw: String) {
        #expect(Addresses.email(raw) == nil)
        #expect(Addresses.generalEmail(raw) == nil)
    }

    @Test func ordinaryEmailsStillPass() {
        for raw in [
            "a.b@corp.example", "a-b@my-corp.example", "a+tag@x-1.example", "élodie@exemple.fr", "x%y@corp.example",
        ] {
            #expect(Addresses.email(raw) != nil, "\(raw)")
        }
    }

    /// A dependency's failure reaches our problem details as its status or what we expected, never as

    /// text the other side (or a decoder) wrote.

    @Test func everyJSONPathRefusesARepeatedKey() {
        #expect(throws: JSONParseError(reason: "repeated key in an object", offset: 8)) {
            try JSONParser.parse(Array(#"{"a":1, "a":2}"#.utf8))
        }
        for body in [#"{"sourceId":"a","sourceId":"b"}"#, #"{"sourceId":"a","x":{"k":1,"k":"\ud800"}}"#] {
            #expect(throws: Problem.self, "Decodable: \(body)") {
                try JSONCoding.decode(MergeRequest.self, from: Array(body.utf8))
            }
        }
        for body in [#"{"channel":"email","address":"a@b.example","address":"c@d.example"}"#] {
            #expect(throws: Problem.self, "fast reader") {
                try JSONCoding.decode(ResolveRequest.self, from: Array(body.utf8))
            }
        }
        #expect(throws: Problem.self, "merge patch") {
            try JSONCoding.decode(JSONValue.self, from: Array(#"{"n":1,"n":null}"#.utf8))
        }
    }

    @Test func canonicalTimestampsOnly() {
        #expect(Timestamp.isCanonical("2026-11-22T14:05:09.123Z"))
        #expect(Timestamp.isCanonical(Timestamp.now()))
        for text in [
            "", "2026-11-22T14:05:09Z", "2026-11-22T14:05:09.123+00:00", "2026-13-22T14:05:09.123Z", "yesterday",
            "2026-11-22T14:05:09.123z",
        ] {
            #expect(!Timestamp.isCanonical(text), "\(text)")
        }
    }
}
