import ConciergeClients
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Storage
import TestSupport
import Testing

@testable import ContactsService

/// What a contact may hold: bounded fields, a name or an identity, merges that stay within the limits,
/// lists stored from before values were escaped, and hero ids checked before routing is asked.
@Suite struct ContactInputTests {
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
                    _ = try connection.run(
                        "INSERT INTO identities (kind, value, contact_seq) VALUES ('email', 'per%cent@example.com', 1)")
                }
            }
            let db = try Database(path: path, migrations: ContactMigrations.all)
            let store = ContactStore(db: db, events: try EventLog(db: db, service: "contacts"))
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
        #expect(
            field(NewContact(attributes: Dictionary(uniqueKeysWithValues: (0..<201).map { ("k\($0)", "v") })))
                == "attributes")
        #expect(field(NewContact(attributes: ["k": String(repeating: "v", count: 4096)])) == nil)
        #expect(
            field(NewContact(attributes: ["k": String(repeating: "é", count: 2049)])) == "attributes.k",
            "4 KiB is bytes")
        #expect(
            field(NewContact(handles: [Handle(channel: "chat", value: String(repeating: "h", count: 201))]))
                == "handles[0].value")
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
        #expect(throws: ContactError.self) {
            try HeroValidator.checkShape(DedicatedHero(type: .inbox, id: "a\u{1F}"), field: "id")
        }
    }

    /// Routing's failure reaches the problem detail as its status, never as text it (or a decoder) wrote.
    @Test func routingFailuresSayNothingRoutingWrote() {
        let leaked = #"DecodingError.keyNotFound(CodingKeys(stringValue: "type", intValue: nil))"#
        let answered = ServiceError.problem(Problem(status: 500, title: "HTTP 500", detail: leaked))
        let problem = ContactError.routingFailed(answered.summary).problem
        #expect(problem.status == 502)
        #expect(problem.detail?.contains("Decoding") == false)
    }
}
