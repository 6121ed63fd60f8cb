import Clients
import Foundation
import Models
import Storage
import Testing

@testable import Models

@testable import CRMLookupService
@testable import ContactsService
@testable import ConversationsService

/// The one check of stored text, the list storage that no value can break, and the contact, email,
/// JSON and internal-body rules built on them — in process, without a service.
@Suite struct StoredInputTests {
    @Test(arguments: [
        "\u{0}", "a\u{1}", "\u{1B}[2J", "x\u{1E}y", "x\u{1F}victim@corp.example", "\u{7F}", "\u{80}", "a\u{85}b", "\u{9F}",
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
    @Test func storedListsFromBeforeEscapingReadTheSameAfterTheMigration() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/contacts.sqlite"
            do {
                let old = try Database(path: path, migrations: Array(ContactMigrations.all.prefix(4)))
                try old.write { connection in
                    _ = try connection.run(
                        """
                        INSERT INTO contacts (id, name, name_folded, emails, phones, handles, tags, attributes, created_at, updated_at)
                        VALUES ('c1', 'Per', 'per', ?, '+4511111111', ?, ?, ?, 'x', 'x')
                        """, "per%cent@example.com\u{1F}plain@example.com", "chat\u{1E}p%1F", "50%\u{1F}vip",
                        "discount\u{1E}10%\u{1F}plan\u{1E}gold")
                    _ = try connection.run("INSERT INTO identities (kind, value, contact_seq) VALUES ('email', 'per%cent@example.com', 1)")
                }
            }
            let store = ContactStore(db: try Database(path: path, migrations: ContactMigrations.all))
            let contact = try store.get("c1")
            #expect(contact.emails == ["per%cent@example.com", "plain@example.com"])
            #expect(contact.handles == [Handle(channel: "chat", value: "p%1F")])
            #expect(contact.tags == ["50%", "vip"])
            #expect(contact.attributes == ["discount": "10%", "plan": "gold"])
            var filters = ContactStore.Filters()
            filters.q = "R%C"
            #expect(try store.search(filters, limit: 10, before: nil).items.map(\.id) == ["c1"])
            filters.q = "%1F"
            #expect(try store.search(filters, limit: 10, before: nil).items.isEmpty, "the escape itself is not text")
        }
    }

    @Test(arguments: [
        "x\u{1F}victim@corp.example", "x\u{0}y@corp.example", "esc\u{1B}@corp.example", ".x@corp.example", "x.@corp.example",
        "x..y@corp.example", "x@-corp.example", "x@corp-.example", "x@corp.-example", "x@corp.example-", "é.@corp.example",
        "é@-corp.example", "é\u{85}@corp.example",
    ])
    func emailsWithControlCharactersStrayDotsOrHyphenEdgedLabelsAreRefused(raw: String) {
        #expect(Addresses.email(raw) == nil)
        #expect(Addresses.generalEmail(raw) == nil)
    }

    @Test func ordinaryEmailsStillPass() {
        for raw in ["a.b@corp.example", "a-b@my-corp.example", "a+tag@x-1.example", "élodie@exemple.fr", "x%y@corp.example"] {
            #expect(Addresses.email(raw) != nil, "\(raw)")
        }
    }

    @Test func contactFieldsAreBoundedAndNamedWhenRefused() {
        func field(_ input: NewContact) -> String? {
            do {
                _ = try ContactDraft(input)
                return nil
            } catch {
                guard case .invalid(let field, _) = error else { return "other" }
                return field
            }
        }
        #expect(field(NewContact(name: String(repeating: "n", count: 200))) == nil)
        #expect(field(NewContact(name: String(repeating: "n", count: 201))) == "name")
        #expect(field(NewContact(name: "Eve\u{1B}")) == "name")
        #expect(field(NewContact(emails: (0..<51).map { "e\($0)@example.com" })) == "emails")
        #expect(field(NewContact(phones: (0..<51).map { "+45111\(11100 + $0)" })) == "phones")
        #expect(field(NewContact(handles: (0..<51).map { Handle(channel: "chat", value: "h\($0)") })) == "handles")
        #expect(field(NewContact(tags: (0..<101).map { "t\($0)" })) == "tags")
        #expect(field(NewContact(tags: [String(repeating: "t", count: 101)])) == "tags[0]")
        #expect(field(NewContact(attributes: Dictionary(uniqueKeysWithValues: (0..<201).map { ("k\($0)", "v") }))) == "attributes")
        #expect(field(NewContact(attributes: ["k": String(repeating: "v", count: 4096)])) == nil)
        #expect(field(NewContact(attributes: ["k": String(repeating: "é", count: 2049)])) == "attributes.k", "4 KiB is bytes")
        #expect(field(NewContact(handles: [Handle(channel: "chat", value: String(repeating: "h", count: 201))])) == "handles[0].value")
    }

    @Test func aContactNeedsANameOrAnIdentity() throws {
        #expect(throws: ContactError.self) { try ContactDraft(NewContact()).checkIdentifiable() }
        #expect(throws: ContactError.self) { try ContactDraft(NewContact(name: "  ", tags: ["t"])).checkIdentifiable() }
        try ContactDraft(NewContact(name: "Ada")).checkIdentifiable()
        try ContactDraft(NewContact(emails: ["a@example.com"])).checkIdentifiable()
        var draft = try ContactDraft(NewContact(name: "Ada"))
        #expect(throws: ContactError.self) { try ContactPatchInput.apply(.object(["name": .string("")]), to: &draft) }
    }

    @Test func aMergeWhoseUnionPassesALimitIsRefusedNotCut() {
        let target = ContactMergeTests.contact("t", emails: (0..<30).map { "t\($0)@example.com" })
        let source = ContactMergeTests.contact("s", emails: (0..<30).map { "s\($0)@example.com" })
        #expect(throws: ContactError.mergeTooLarge(field: "emails", count: 60, limit: 50)) {
            try ContactMerge(target: target, source: source)
        }
        let tagged = ContactMergeTests.contact("u", tags: (0..<60).map { "a\($0)" })
        let sameTags = ContactMergeTests.contact("v", tags: (0..<60).map { "A\($0)" })
        #expect(throws: Never.self) { try ContactMerge(target: tagged, source: sameTags) }
    }

    @Test func heroIDsAreCheckedBeforeRoutingIsAsked() {
        #expect(throws: ContactError.invalid(field: "id", message: "id must not be empty.")) {
            try HeroValidator.checkShape(DedicatedHero(type: .agent, id: ""), field: "id")
        }
        #expect(throws: ContactError.self) { try HeroValidator.checkShape(DedicatedHero(type: .inbox, id: "a\u{1F}"), field: "id") }
    }

    /// A dependency's failure reaches our problem details as its status or what we expected, never as
    /// text the other side (or a decoder) wrote.
    @Test func dependencyFailuresSayNothingTheOtherSideWrote() {
        let leaked = #"DecodingError.keyNotFound(CodingKeys(stringValue: "type", intValue: nil))"#
        let answered = ServiceError.problem(Problem(status: 500, title: "HTTP 500", detail: leaked))
        #expect(answered.summary == "it answered HTTP 500")
        #expect(ServiceError.invalidResponse("the answer is not the expected Agent JSON").summary == "the answer is not the expected Agent JSON")
        let problem = ContactError.routingFailed(answered.summary).problem
        #expect(problem.status == 502)
        #expect(problem.detail?.contains("Decoding") == false)
        #expect(ConversationError.dependencyFailed(service: "contacts", detail: answered.summary).problem.detail?.contains("Decoding") == false)
    }

    @Test func everyJSONPathRefusesARepeatedKey() {
        #expect(throws: JSONParseError(reason: "repeated key in an object", offset: 8)) {
            try JSONParser.parse(Array(#"{"a":1, "a":2}"#.utf8))
        }
        for body in [#"{"sourceId":"a","sourceId":"b"}"#, #"{"sourceId":"a","x":{"k":1,"k":"\ud800"}}"#] {
            #expect(throws: Problem.self, "Decodable: \(body)") { try JSONCoding.decode(MergeRequest.self, from: Array(body.utf8)) }
        }
        for body in [#"{"channel":"email","address":"a@b.example","address":"c@d.example"}"#] {
            #expect(throws: Problem.self, "fast reader") { try JSONCoding.decode(ResolveRequest.self, from: Array(body.utf8)) }
        }
        #expect(throws: Problem.self, "merge patch") { try JSONCoding.decode(JSONValue.self, from: Array(#"{"n":1,"n":null}"#.utf8)) }
    }

    @Test func canonicalTimestampsOnly() {
        #expect(Timestamp.isCanonical("2026-11-22T14:05:09.123Z"))
        #expect(Timestamp.isCanonical(Timestamp.now()))
        for text in ["", "2026-11-22T14:05:09Z", "2026-11-22T14:05:09.123+00:00", "2026-13-22T14:05:09.123Z", "yesterday", "2026-11-22T14:05:09.123z"] {
            #expect(!Timestamp.isCanonical(text), "\(text)")
        }
    }

    @Test func internalRoutingDecisionsNeedDecidedAtAndRealIDs() throws {
        var decision = RouteResult(
            conversationId: "c", routingState: .assigned, assigneeId: "ghost", inboxId: nil, queueId: nil, replies: [], trace: [],
            version: 1, decidedAt: "")
        #expect(throws: ConversationError.self) { try InputCheck.routingDecision(decision) }
        decision.decidedAt = "2026-11-22T14:05:09.123Z"
        try InputCheck.routingDecision(decision)
        decision.assigneeId = ""
        #expect(throws: ConversationError.self) { try InputCheck.routingDecision(decision) }
        let snapshot = Contact(id: "c", name: "", createdAt: "2026-11-22T14:05:09.123Z", updatedAt: "")
        #expect(throws: ConversationError.self) { try InputCheck.snapshot(snapshot) }
        #expect(throws: ConversationError.self) {
            try InputCheck.inbound(InboundRequest(channel: .email, from: "x\u{1F}y@corp.example", body: "hi"))
        }
        try InputCheck.inbound(InboundRequest(channel: .email, from: "a@corp.example", body: "line one\r\n\tline two"))
    }

    @Test func aCSVHeaderNeedsAnEmailOrPhoneColumn() throws {
        #expect(throws: CRMError.self) { try CustomerImport.checkHeader(["name", "customerType"]) }
        try CustomerImport.checkHeader(["email"])
        try CustomerImport.checkHeader(["customerType", "phone"])
    }
}
