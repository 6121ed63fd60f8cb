import ConciergeModels
import Foundation
import Testing

/// The `pattern`s the OpenAPI documents give text fields say what the services refuse: each is run
/// against the services' own checks (`StoredText`, `Addresses`) on inputs at the edges of the rules.
@Suite struct DocumentedPatternsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func document(_ service: String) throws -> [String: Any] {
        let data = try Data(contentsOf: repository.appendingPathComponent("Services/concierge-\(service)/openapi.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The object at `path` (keys, `[]` for `items`) under `components`.
    static func schema(_ service: String, _ path: String...) throws -> [String: Any] {
        var node: Any? = try document(service)["components"]
        for key in path { node = (node as? [String: Any])?[key] }
        return try #require(node as? [String: Any], "\(service): \(path)")
    }

    static func pattern(_ service: String, _ path: String...) throws -> NSRegularExpression {
        var node: Any? = try document(service)["components"]
        for key in path { node = (node as? [String: Any])?[key] }
        let text = try #require((node as? [String: Any])?["pattern"] as? String, "\(service): \(path)")
        return try NSRegularExpression(pattern: text)
    }

    /// Whether `regex` matches `text` as JSON Schema reads a pattern (ECMA-262, where `$` is the end of
    /// the text): ICU's `$` also matches before a final line break, so the match must cover the whole text.
    static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        let whole = NSRange(text.startIndex..., in: text)
        return regex.firstMatch(in: text, range: whole)?.range == whole
    }

    static let texts = [
        "", "Ada", " Ada Lovelace ", "Ada\n", "\r\nAda\t", "A\nda", "A\tda", "A\u{1B}da", "\u{0}", "x\u{7F}",
        "x\u{80}", "x\u{9F}", "x\u{A0}y", "\u{2028}Ada", "Ørsted ☕️", "tab\there", "line\r\nbreak", "\u{1F}",
        "\u{1E}sep", "\u{B}v", "\u{C}f",
    ]

    @Test func oneLineTextIsRefusedWithAControlCharacterTrimmedOrNot() throws {
        let trimmed = try Self.pattern("contacts", "schemas", "NewContact", "properties", "name")
        let untrimmed = try Self.pattern(
            "contacts", "schemas", "NewContact", "properties", "attributes",
            "additionalProperties")
        for text in Self.texts {
            let stored = text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Self.matches(trimmed, text) == StoredText.isAllowed(stored), "\(text.debugDescription)")
            #expect(Self.matches(untrimmed, text) == StoredText.isAllowed(text), "\(text.debugDescription)")
        }
    }

    @Test func multiLineTextMayHoldTabAndLineBreaksOnly() throws {
        let body = try Self.pattern("conversations", "schemas", "NewMessage", "properties", "body")
        let signature = try Self.pattern("routing", "schemas", "NewInbox", "properties", "signature")
        for text in Self.texts {
            let allowed = StoredText.isAllowed(text, lines: .multiline)
            #expect(Self.matches(body, text) == allowed, "\(text.debugDescription)")
            #expect(Self.matches(signature, text) == allowed, "\(text.debugDescription)")
        }
    }

    @Test func textTrimmedOfSpacesAndTabsOnly() throws {
        let channel = try Self.pattern("contacts", "schemas", "Handle", "properties", "channel")
        for text in Self.texts {
            let stored = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            #expect(Self.matches(channel, text) == StoredText.isAllowed(stored), "\(text.debugDescription)")
        }
    }

    static let phones = [
        "+4512345678", "+45 12 34 56 78", "(+45) 12-34.56[78]", "\t+4512345678\t", "+1234567", "+123456",
        "+123456789012345", "+1234567890123456", "+0451234567", "4512345678", "", "+", "+45 12\n345678",
        "+45１２３４５６７８", "++4512345678", "+45/12345678", " + 4 5 1 2 3 4 5 6 7 8 ",
    ]

    @Test func phonesFollowTheE164PatternWithTheSeparatorsDropped() throws {
        let contacts = try Self.pattern("contacts", "schemas", "NewContact", "properties", "phones", "items")
        let lookup = try Self.pattern("crm-lookup", "parameters", "LookupPhone", "schema")
        let customer = try Self.pattern("crm-lookup", "schemas", "CustomerInput", "properties", "phone")
        for phone in Self.phones {
            let valid = Addresses.e164(phone) != nil
            #expect(Self.matches(contacts, phone) == valid, "\(phone.debugDescription)")
            #expect(Self.matches(lookup, phone) == valid, "\(phone.debugDescription)")
            // A customer's empty phone counts as absent.
            #expect(Self.matches(customer, phone) == (valid || phone.isEmpty), "\(phone.debugDescription)")
        }
    }

    @Test func emailsAreDeclaredAsEmails() throws {
        let items = try Self.schema("contacts", "schemas", "NewContact", "properties", "emails", "items")
        #expect(items["format"] as? String == "email")
        let patch = try Self.schema("contacts", "schemas", "ContactPatch", "properties", "emails", "items")
        #expect(patch["format"] as? String == "email")
        #expect(
            try Self.schema("routing", "schemas", "NewAgent", "properties", "email")["format"] as? String == "email")
        let customer = try Self.schema("crm-lookup", "schemas", "CustomerInput", "properties", "email")
        let choices = (customer["anyOf"] as? [[String: Any]]) ?? []
        #expect(choices.contains { $0["format"] as? String == "email" })
        #expect(choices.contains { $0["const"] as? String == "" }, "an empty email counts as absent")
        #expect(try Self.schema("crm-lookup", "parameters", "LookupEmail", "schema")["format"] as? String == "email")
    }
}
