import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// `JSONParser` reads what RFC 8259 allows, refuses all that `JSONSerialization` refuses, and never
/// traps on hostile input.
@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    /// Foundation's verdict, fragments allowed as in `JSONParser`.
    private func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    @Test func readsEveryKindOfValue() throws {
        let value = try parse(#" { "a" : [1, -2.5, true, false, null, "x", {}, []], "b": {"c": {"d": "e"}} } "#)
        #expect(
            value
                == .object([
                    "a": .array([
                        .number(1), .number(-2.5), .bool(true), .bool(false), .null, .string("x"), .object([:]),
                        .array([]),
                    ]),
                    "b": .object(["c": .object(["d": .string("e")])]),
                ]))
        #expect(try parse("\"top\"") == .string("top"))
        #expect(try parse(" 42\r\n") == .number(42))
        #expect(try parse("null") == .null)
    }

    @Test func readsEscapes() throws {
        #expect(try parse(#""\" \\ \/ \b \f \n \r \t""#) == .string("\" \\ / \u{8} \u{C} \n \r \t"))
        #expect(try parse(#""\u0041\u00e9\u00E9\u20ac\u0000""#) == .string("Aéé€\u{0}"))
        #expect(try parse(#""plain \u0041 then raw é""#) == .string("plain A then raw é"))
    }

    @Test func joinsSurrogatePairsIntoOneScalar() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\uD834\uDD1E clef""#) == .string("𝄞 clef"))
        #expect(try parse("\"😀 raw\"") == .string("😀 raw"))
    }

    @Test(arguments: [
        "0", "-0", "7", "-12", "1.5", "-1.25e2", "1E+2", "1e-2", "0.1", "0.3", "123456.789e-3", "9007199254740993",
        "123456789012345678901234567890", "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "1e-400",
        "0.0000000000000000000000001", "1234567890.0987654321e10",
    ])
    func readsNumbersAsDoubleDoes(text: String) throws {
        let expected = try #require(Double(text))
        #expect(try parse(text) == .number(expected))
        #expect(try parse(text).numberSign == expected.sign)
    }

    @Test func readsRandomNumbersAsDoubleDoes() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let mantissa = random.next() >> (random.next() % 64)
            let fraction = random.next() % 1_000_000
            let exponent = Int(random.next() % 80) - 40
            let text = "\(random.next() % 2 == 0 ? "-" : "")\(mantissa).\(fraction)e\(exponent)"
            #expect(try parse(text) == .number(try #require(Double(text))), "\(text)")
        }
    }

    @Test func refusesRepeatedKeysAndSkipsALeadingBOM() throws {
        // Foundation keeps one of the two; which one is not promised, so the document is refused.
        #expect(throws: JSONParseError(reason: "repeated key in an object", offset: 7)) { try parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONParseError.self) { try parse(#"{"x":{"a":1,"b":[{"a":2,"a":3}]}}"#) }
        #expect(
            try parse(#"{"a":{"a":1},"b":{"a":2}}"#)
                == .object(["a": .object(["a": .number(1)]), "b": .object(["a": .number(2)])]))
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == .array([]))
    }

    static let refused: [[UInt8]] =
        [
            "", " ", "{", "}", "[", "]", "[1", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\" 1}", "{1:2}", "{a:1}", "[1 2]",
            "{} x",
            "[] []", "01", "-01", "-", "1.", ".5", "+1", "1e", "1e+", "1.e3", "0x10", "tru", "nul", "falsey", "True",
            "NaN",
            "Infinity", "-Infinity", "1e400", "-1e400", "1.8e308", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
            "\"\\ud800\"",
            "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"a\tb\"", "\"a\nb\"", "\"\u{0}\"", "\u{C}{}",
            "{}\u{0}", "'a'",
            "[" + String(repeating: "[", count: 512) + String(repeating: "]", count: 513),
        ].map { Array($0.utf8) } + [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xE9, 0x22], [0xFF], [0x7B, 0x7D, 0xFF],
        ]

    @Test(arguments: refused)
    func refusesWhatJSONSerializationRefuses(bytes: [UInt8]) {
        #expect(!foundationAccepts(bytes), "the case itself: Foundation should refuse \(bytes)")
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func refusesTrailingCommasThatFoundationAllows() {
        for text in [#"{"a":1,}"#, "[1,]", "[1,2,]"] {
            #expect(throws: JSONParseError.self, "\(text)") { try parse(text) }
        }
    }

    @Test func nestsUpTo512Levels() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(foundationAccepts(Array(deepest.utf8)))
        _ = try parse(deepest)
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError(reason: "nested deeper than 512 levels", offset: 512)) { try parse(tooDeep) }
        // A megabyte of openers ends at the limit, not in a stack overflow.
        #expect(throws: JSONParseError.self) { try parse(String(repeating: "[{\"a\":", count: 200_000)) }
    }

    @Test func errorsSayWhatAndWhere() {
        #expect(throws: JSONParseError(reason: "unexpected character", offset: 5)) { try parse(#"{"a":tru}"#) }
        #expect(throws: JSONParseError(reason: "unterminated string", offset: 5)) { try parse(#"{"a":"bc"#) }
        #expect(throws: JSONParseError(reason: "leading zero in a number", offset: 2)) { try parse("[01]") }
        #expect(throws: JSONParseError(reason: "expected a string key", offset: 8)) { try parse(#"{"a":1, }"#) }
        #expect(throws: JSONParseError(reason: "unexpected end of input", offset: 27)) {
            try parse(#"{"email":"ada@example.com","#)
        }
        #expect(JSONParseError(reason: "number out of range", offset: 3).description == "number out of range at byte 3")
    }

    @Test func agreesWithFoundationOnValidDocuments() throws {
        let documents = [
            #"{"email":"ada@example.com","phone":"+4512345678","lifetimeValue":1234.5,"attributes":{"a":[1,{"b":null}]}}"#,
            #"[0.1, -0, 1e22, 1e23, 12345678901234567890, "\u2028 \ud83d\ude00 é", true]"#, #""\\\"\/""#,
            "[[],{},[[]]]",
        ]
        for document in documents {
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(try parse(document) == reference, "\(document)")
        }
    }

    /// Every prefix and thousands of byte-level mutations of valid documents: the parser answers or
    /// throws, never traps, and accepts nothing Foundation refuses.
    @Test func survivesHostileInput() {
        let seeds = [
            #"{"email":"ada@example.com","n":[1.5e3,-0,true,null],"s":"\u00e9\ud83d\ude00\n","o":{"k":{}}}"#,
            #"[1, "two", {"three": [3.0e-3]}, false]"#,
        ].map { Array($0.utf8) }
        let insertable = Array(#"{}[]",:\u0.e-"#.utf8)
        var random = SplitMix64(seed: 7)
        var accepted = 0
        for seed in seeds {
            for end in 0...seed.count { _ = try? JSONParser.parse(Array(seed[..<end])) }
            for _ in 0..<5000 {
                var bytes = seed
                for _ in 0...(random.next() % 4) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 3 {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(insertable[Int(random.next() % UInt64(insertable.count))], at: at)
                    }
                }
                if (try? JSONParser.parse(bytes)) != nil {
                    accepted += 1
                    #expect(
                        foundationAccepts(bytes),
                        "accepted what Foundation refuses: \(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
        #expect(accepted > 0, "some mutations stay valid, so the comparison above ran")
    }
}

extension JSONValue {
    /// The sign of a number, to tell -0 from 0 (which `==` does not).
    fileprivate var numberSign: FloatingPointSign? { if case .number(let value) = self { value.sign } else { nil } }
}

/// `JSONValue.write(to:)` says what `JSONCoding.encode` says, readably by both parsers.
@Suite struct JSONValueWritingTests {
    private func written(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: [
        0, 1, -7, 1234.5, 0.1, -0.25, 1e15, 9e15, 1e16, 1e20, 1e21, 1e-7, 123456789012.25, 1.7976931348623157e308,
    ])
    func writesNumbersAsTheEncoder(value: Double) throws {
        let reference = String(decoding: try JSONCoding.encode(JSONValue.number(value)), as: UTF8.self)
        #expect(written(.number(value)) == reference)
    }

    @Test func writesNonFiniteNumbersAsNull() {
        #expect(written(.number(.infinity)) == "null")
        #expect(written(.number(.nan)) == "null")
    }

    @Test func roundTripsThroughBothParsers() throws {
        let value = JSONValue.object([
            "text": .string("quote \" backslash \\ slash / newline \n tab \t bell \u{7} nul \u{0} é 😀 \u{2028}"),
            "list": .array([.number(1), .number(-2.5), .bool(true), .null, .array([]), .object([:])]),
            "nested": .object(["b": .string("2"), "a": .string("1")]),
        ])
        let bytes = Array(written(value).utf8)
        #expect(try JSONParser.parse(bytes) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) == value)
    }

    @Test func sortsObjectKeysButKeepsMembersInTheirOrder() {
        #expect(written(.object(["b": .number(2), "a": .number(1), "c": .null])) == #"{"a":1,"b":2,"c":null}"#)
        var bytes: [UInt8] = []
        JSONValue.write(members: ["z": .string("last"), "a": .bool(false)], to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"z":"last","a":false}"#)
    }
}

/// `CustomerInput(json:)` answers as `JSONCoding.decode(CustomerInput.self, …)` does: the same value, or
/// the same 400 problem.
@Suite struct CustomerInputFromJSONTests {
    @Test(arguments: [
        #"{"email":"ada@example.com","phone":"+4512345678","customerType":"VIP","loyaltyStatus":"gold","accountManager":"Bo","lifetimeValue":12.5,"attributes":{"a":1,"b":[null]}}"#,
        #"{"email":null,"phone":null,"lifetimeValue":null,"attributes":null,"unknown":[1,2]}"#, "{}",
        #"{"email":5}"#, #"{"phone":true}"#, #"{"customerType":[]}"#, #"{"loyaltyStatus":{}}"#,
        #"{"accountManager":1.5}"#,
        #"{"lifetimeValue":"lots"}"#, #"{"lifetimeValue":false}"#, #"{"attributes":5}"#, #"{"attributes":[]}"#,
        #"{"lifetimeValue":"x","email":5}"#, #"{"attributes":"x","loyaltyStatus":3}"#, "[]", "5", #""text""#,
    ])
    func answersAsTheDecoder(body: String) throws {
        let bytes = Array(body.utf8)
        let reference = Result { try JSONCoding.decode(CustomerInput.self, from: bytes) }
        let fast = Result { try CustomerInput(json: JSONParser.parse(bytes)) }
        switch (fast, reference) {
        case (.success(let fast), .success(let reference)): #expect(fast == reference)
        case (.failure(let fast), .failure(let reference)): #expect(fast as? Problem == reference as? Problem)
        default: Issue.record("\(body): fast \(fast), decoder \(reference)")
        }
    }

    @Test func nullBodyIsTheWrongType() {
        #expect(throws: Problem.badRequest("Field (body) has the wrong type; expected an object.")) {
            try CustomerInput(json: .null)
        }
    }
}
