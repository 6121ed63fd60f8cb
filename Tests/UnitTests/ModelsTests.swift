import ConciergeJSON
import Foundation
import Testing

@testable import ConciergeModels

/// Wire conventions of SPEC §2: problem documents, decoding errors, nulls, URL escapes, timestamps.
@Suite struct ModelsTests {
    // MARK: Problem documents

    @Test func problemEncodesAsRFC9457Document() throws {
        let problem = Problem(status: 404, title: "Contact not found", detail: "No contact has id c1.")
        let bytes = try JSONCoding.encode(problem)
        let object = try jsonObject(bytes)
        #expect(Set(object.keys) == ["type", "title", "status", "detail"])
        #expect(object["type"] as? String == "https://concierge.dev/problems/not-found")
        #expect(object["title"] as? String == "Contact not found")
        #expect(object["status"] as? Int == 404)
        #expect(object["detail"] as? String == "No contact has id c1.")
        // Slashes are not escaped, so the type reads as a URL on the wire.
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"https://concierge.dev/problems/not-found\""))
    }

    @Test func problemWithFieldErrorsListsThem() throws {
        let problem = Problem.unprocessable(
            "The workflow is invalid.",
            errors: [
                .init(field: "steps[2].next", message: "No step has id x."), .init(field: "start", message: "Missing."),
            ])
        let object = try jsonObject(JSONCoding.encode(problem))
        #expect(object["status"] as? Int == 422)
        let errors = try #require(object["errors"] as? [[String: String]])
        #expect(
            errors == [
                ["field": "steps[2].next", "message": "No step has id x."], ["field": "start", "message": "Missing."],
            ])
        #expect(try JSONCoding.decode(Problem.self, from: JSONCoding.encode(problem)) == problem)
    }

    @Test(arguments: [400, 401, 403, 404, 405, 409, 413, 414, 415, 422, 429, 431, 502, 503, 504, 418])
    func problemTypeIsAURLNamingTheStatus(status: Int) throws {
        let problem = Problem(status: status, title: "t")
        #expect(problem.type.hasPrefix("https://concierge.dev/problems/"))
        #expect(problem.problem == problem)
        let object = try jsonObject(JSONCoding.encode(problem))
        #expect(object["detail"] == nil)
        #expect(object["errors"] == nil)
        #expect(object["status"] as? Int == status)
    }

    @Test func problemHelpersCarryTheirStatusAndField() {
        let bad = Problem.badRequest("Missing required field name.", field: "name")
        #expect(bad.status == 400)
        #expect(bad.errors == [.init(field: "name", message: "Missing required field name.")])
        #expect(Problem.badRequest("No field.").errors == nil)
        #expect(Problem.notFound("Contact", id: "c9").status == 404)
        #expect(Problem.notFound("Contact", id: "c9").detail?.contains("c9") == true)
        #expect(Problem.conflict("Taken", detail: "d").status == 409)
        #expect(Problem.unavailable("down").status == 503)
        #expect(Problem(status: 400, title: "t", type: "about:blank").type == "about:blank")
    }

    // MARK: Decoding errors

    @Test(arguments: [
        (#"{"emails":[]}"#, "name"),
        (#"{"name":5,"emails":[]}"#, "name"),
        (#"{"name":null,"emails":[]}"#, "name"),
        (#"{"name":"Ada","emails":"ada@example.com"}"#, "emails"),
        (#"{"name":"Ada","emails":[5]}"#, "emails[0]"),
        (#"{"name":"Ada","emails":["a@b.c",null]}"#, "emails[1]"),
        (#"{"name":"Ada","emails":[],"address":{}}"#, "address.city"),
        (#"{"name":"Ada","emails":[],"address":{"city":false}}"#, "address.city"),
        (#"{"name":"Ada","emails":[],"tags":[{"label":"vip"},{}]}"#, "tags[1].label"),
        (#"{"name":"Ada","emails":[],"tags":[{"label":"vip"},{"label":[]}]}"#, "tags[1].label"),
    ])
    func decodingErrorIsA400NamingTheFieldPath(body: String, field: String) throws {
        let problem = try #require(decodeProblem(NewPerson.self, body))
        #expect(problem.status == 400)
        let errors = try #require(problem.errors)
        #expect(errors.map(\.field) == [field])
        #expect(problem.detail?.contains(field) == true)
        #expect(errors.first?.message == problem.detail)
    }

    @Test(arguments: ["", "{", #"{"name":"Ada","#, "nul", "\u{0}", "[1,2"])
    func bodyThatIsNotJSONIsA400WithoutAField(body: String) throws {
        let problem = try #require(decodeProblem(NewPerson.self, body))
        #expect(problem.status == 400)
        #expect(problem.errors == nil)
    }

    @Test func wrongTopLevelTypeIsA400WithoutAField() throws {
        let problem = try #require(decodeProblem(NewPerson.self, "[1]"))
        #expect(problem.status == 400)
        #expect(problem.errors == nil)
        #expect(problem.detail?.contains("(body)") == true)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let person = try JSONCoding.decode(
            NewPerson.self,
            from: Array(#"{"name":"Ada","emails":["a@b.c"],"shoeSize":42,"address":{"city":"Paris","zip":1}}"#.utf8))
        #expect(person.name == "Ada")
        #expect(person.emails == ["a@b.c"])
        #expect(person.address?.city == "Paris")
    }

    @Test func problemThrownByADecoderIsPassedThrough() throws {
        let problem = try #require(decodeProblem(Strict.self, #"{"value":"x"}"#))
        #expect(problem == Strict.refusal)
    }

    // MARK: Nullable

    @Test func nullableEncodesNilAsNull() throws {
        let bytes = try JSONCoding.encode(Merged(name: "Ada", mergedInto: nil))
        let object = try jsonObject(bytes)
        #expect(Set(object.keys) == ["name", "mergedInto"])
        #expect(object["mergedInto"] is NSNull)
        let present = try jsonObject(JSONCoding.encode(Merged(name: "Ada", mergedInto: "c2")))
        #expect(present["mergedInto"] as? String == "c2")
    }

    @Test(arguments: [
        (#"{"name":"Ada"}"#, String?.none),
        (#"{"name":"Ada","mergedInto":null}"#, String?.none),
        (#"{"name":"Ada","mergedInto":"c2"}"#, "c2"),
    ])
    func nullableDecodesMissingAndNullAsNil(body: String, mergedInto: String?) throws {
        let decoded = try JSONCoding.decode(Merged.self, from: Array(body.utf8))
        #expect(decoded == Merged(name: "Ada", mergedInto: mergedInto))
    }

    @Test func nullableWithTheWrongTypeIsA400NamingTheField() throws {
        let problem = try #require(decodeProblem(Merged.self, #"{"name":"Ada","mergedInto":5}"#))
        #expect(problem.errors?.map(\.field) == ["mergedInto"])
    }

    // MARK: URL coding

    @Test(arguments: ["plain", "a b", "a+b", "100%", "a/b?c=d&e#f", "café ☕︎", "👩‍💻", "", "~-._", "\u{0}%00", "%41"])
    func urlCodingRoundTrips(text: String) throws {
        let encoded = URLCoding.encodeComponent(text)
        #expect(encoded.wholeMatch(of: /([A-Za-z0-9\-._~]|%[0-9A-F]{2})*/) != nil, "\(encoded)")
        #expect(URLCoding.decodeQueryComponent(encoded[...]) == text)
        #expect(URLCoding.decodePathSegment(encoded[...]) == text)
    }

    @Test func urlEncodingKeepsOnlyUnreservedCharacters() {
        #expect(URLCoding.encodeComponent("a b+c/d") == "a%20b%2Bc%2Fd")
        #expect(URLCoding.encodeComponent("é") == "%C3%A9")
        #expect(URLCoding.encodeComponent("AZaz09-._~") == "AZaz09-._~")
    }

    @Test func plusIsASpaceOnlyInQueries() {
        #expect(URLCoding.decodeQueryComponent("a+b%2Bc") == "a b+c")
        #expect(URLCoding.decodePathSegment("a+b%2Bc") == "a+b+c")
        #expect(URLCoding.decodeQueryComponent("caf%c3%a9") == "café")
    }

    @Test(arguments: ["%", "%4", "abc%", "%zz", "%G1", "%4g", "%C3", "%FF", "%C3%28", "a%%20"])
    func badEscapesAreRejected(text: String) {
        #expect(URLCoding.decodeQueryComponent(text[...]) == nil)
        #expect(URLCoding.decodePathSegment(text[...]) == nil)
    }

    // MARK: Timestamps

    @Test func nowIsRFC3339UTCWithMilliseconds() throws {
        let before = Date()
        let stamp = Timestamp.now()
        let after = Date()
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(stamp)")
        let parsed = try #require(Timestamp.parse(stamp))
        #expect(parsed.timeIntervalSince(before) >= -0.001)
        #expect(after.timeIntervalSince(parsed) >= 0)
    }

    @Test func formatUsesUTCAndPadsEveryField() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_356_309.123)) == "2026-11-22T14:05:09.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 946_684_799.999)) == "1999-12-31T23:59:59.999Z")
    }

    @Test func formatAndParseRoundTripEveryMillisecond() throws {
        let base = 1_795_356_309
        var previous = ""
        for millisecond in 0..<1000 {
            let date = Date(timeIntervalSince1970: Double(base) + Double(millisecond) / 1000)
            let text = Timestamp.format(date)
            #expect(text.hasSuffix(String(format: ".%03dZ", millisecond)), "\(text)")
            #expect(text > previous, "lexical order follows time order")
            previous = text
            let parsed = try #require(Timestamp.parse(text))
            #expect(Timestamp.format(parsed) == text)
        }
    }

    @Test func parseAcceptsOffsetsAndWholeSecondsAndRejectsGarbage() {
        let utc = Timestamp.parse("2026-11-22T14:05:09.123Z")
        #expect(utc != nil)
        #expect(Timestamp.parse("2026-11-22T15:05:09.123+01:00") == utc)
        #expect(Timestamp.parse("2026-11-22T14:05:09Z").map(Timestamp.format) == "2026-11-22T14:05:09.000Z")
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("2026-13-45T99:00:00Z") == nil)
        #expect(Timestamp.parse("") == nil)
    }
}

// MARK: - Fixtures

struct NewPerson: Decodable {
    struct Address: Decodable { let city: String }
    struct Tag: Decodable { let label: String }
    let name: String
    let emails: [String]
    let address: Address?
    let tags: [Tag]?
}

struct Merged: Codable, Equatable {
    var name: String
    @Nullable var mergedInto: String?
}

/// A type whose decoder throws its own problem, which must reach the client unchanged.
struct Strict: Decodable {
    static let refusal = Problem.badRequest("value must be upper case", field: "value")
    init(from decoder: any Decoder) throws { throw Self.refusal }
}

private func decodeProblem<T: Decodable>(_ type: T.Type, _ body: String) -> Problem? {
    do {
        _ = try JSONCoding.decode(type, from: Array(body.utf8))
        return nil
    } catch let problem as Problem {
        return problem
    } catch {
        Issue.record("expected a Problem, got \(error)")
        return nil
    }
}

private func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

/// The hand-written JSON of hot answers must say exactly what `Encodable` says.
@Suite struct JSONWriterTests {
    static let contacts = [
        Contact(id: "c1", name: "Ada", createdAt: "2026-11-23T00:00:00.000Z", updatedAt: "2026-11-23T00:00:00.000Z"),
        Contact(
            id: "c2", name: "Søren \"Æblegrød\" \\ Kierkegaard\n\t\u{1}", emails: ["s@example.dk"],
            phones: ["+4512345678"],
            handles: [Handle(channel: "messaging", value: "søren")], tags: ["VIP", "Ærø"],
            attributes: ["b": "2", "a": "1\"x"],
            blocked: true, dedicatedHero: DedicatedHero(type: .inbox, id: "i1"), mergedInto: "c3",
            createdAt: "2026-11-23T00:00:00.000Z", updatedAt: "2026-11-23T00:00:01.000Z"),
    ]

    @Test(arguments: contacts)
    func contactMatchesTheEncoder(_ contact: Contact) throws {
        let fast = try JSONCoding.encode(contact)
        let reference = Array(try JSONEncoder().encode(contact))
        // Key order may differ between the two; the values may not.
        let fastValue = try JSONDecoder().decode(JSONValue.self, from: Data(fast))
        let referenceValue = try JSONDecoder().decode(JSONValue.self, from: Data(reference))
        #expect(fastValue == referenceValue)
        #expect(try JSONDecoder().decode(Contact.self, from: Data(fast)) == contact)
    }

    @Test func pagesAndResolveResultsMatchTheEncoder() throws {
        let page = Page(items: Self.contacts, nextCursor: "7")
        let empty = Page<Contact>(items: [], nextCursor: nil)
        let resolved = ResolveResult(contact: Self.contacts[1], created: true)
        for (fast, reference) in [
            (try JSONCoding.encode(page), Array(try JSONEncoder().encode(page))),
            (try JSONCoding.encode(empty), Array(try JSONEncoder().encode(empty))),
            (try JSONCoding.encode(resolved), Array(try JSONEncoder().encode(resolved))),
        ] {
            #expect(
                try JSONDecoder().decode(JSONValue.self, from: Data(fast))
                    == JSONDecoder().decode(JSONValue.self, from: Data(reference)))
        }
    }
}

extension JSONWriterTests {
    @Test func routeResultMatchesTheEncoder() throws {
        let results = [
            RouteResult(
                conversationId: "c1", routingState: .queued, assigneeId: nil, inboxId: "i1", queueId: nil, replies: [],
                trace: [TraceStep(step: "skip", outcome: "a1: at capacity (3/3 \"messaging\")")], version: 7,
                decidedAt: "t"),
            RouteResult(
                conversationId: "c2", routingState: .awaitingCustomer, assigneeId: "a", inboxId: nil, queueId: "q",
                replies: [Reply(body: "Hi Ø\n")], tags: ["vip"], trace: [], version: 8, decidedAt: "t2"),
        ]
        for result in results {
            let fast = try JSONCoding.encode(result)
            let reference = Array(try JSONEncoder().encode(result))
            #expect(
                try JSONDecoder().decode(JSONValue.self, from: Data(fast))
                    == JSONDecoder().decode(JSONValue.self, from: Data(reference)))
            #expect(try JSONDecoder().decode(RouteResult.self, from: Data(fast)) == result)
        }
    }
}

extension JSONWriterTests {
    /// Decodes both encodings to `JSONValue` (key order may differ) and compares them.
    private func expectSameJSON<T: Encodable>(_ value: T) throws {
        let fast = try JSONCoding.encode(value)
        let reference = Array(try JSONEncoder().encode(value))
        #expect(
            try JSONDecoder().decode(JSONValue.self, from: Data(fast))
                == JSONDecoder().decode(JSONValue.self, from: Data(reference)))
    }

    @Test func inboundPathBodiesMatchTheEncoder() throws {
        let requests = [
            RouteRequest(
                conversationId: "c1", event: .new, channel: .email, contact: RouteContact(id: "k1"),
                message: RouteMessage(id: "m1")),
            RouteRequest(
                conversationId: "c2", event: .moved, channel: .messaging, inboxId: "i9",
                contact: RouteContact(
                    id: "k2", name: "Søren \"Æ\" \\ K\n", emails: ["s@example.dk"], phones: [], tags: ["VIP"],
                    attributes: ["b": "2", "a": "1/\u{1}"], dedicatedHero: DedicatedHero(type: .agent, id: "a1")),
                message: RouteMessage(id: "m2", body: "Hej / </script>\t")),
        ]
        for request in requests {
            try expectSameJSON(request)
            #expect(try JSONDecoder().decode(RouteRequest.self, from: Data(try JSONCoding.encode(request))) == request)
        }
        for resolve in [
            ResolveRequest(channel: .voice, address: "+4512345678"),
            ResolveRequest(channel: .email, address: "a@b.c", name: "Ø"),
        ] {
            try expectSameJSON(resolve)
        }
        let results = [
            InboundResult(
                conversationId: nil, messageId: nil, contactId: "k1", status: nil, inboxId: nil, assigneeId: nil,
                queueId: nil,
                routingState: nil, spam: false, dropped: true, reason: "contact_blocked", replies: []),
            InboundResult(
                conversationId: "c1", messageId: "m1", contactId: "k1", status: .waiting, inboxId: "i1",
                assigneeId: "a1", queueId: "q",
                routingState: .assigned, spam: true, dropped: false, replies: [Reply(body: "Hi \"there\"")]),
        ]
        for result in results {
            try expectSameJSON(result)
            #expect(try JSONDecoder().decode(InboundResult.self, from: Data(try JSONCoding.encode(result))) == result)
        }
    }
}

/// New ids are lower-case UUIDv7 strings that rise with time and do not repeat.
@Suite struct IdentifierTests {
    @Test func idsAreVersion7UUIDsThatRiseWithTime() throws {
        let earlier = Identifier.make(now: Date(timeIntervalSince1970: 1_764_000_000))
        let later = Identifier.make(now: Date(timeIntervalSince1970: 1_764_000_000.5))
        for id in [earlier, later] {
            #expect(id.count == 36)
            #expect(id == id.lowercased())
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = Array(id.replacingOccurrences(of: "-", with: ""))
            #expect(bytes[12] == "7", "version nibble of \(id)")
            #expect("89ab".contains(bytes[16]), "variant of \(id)")
        }
        // The first 48 bits are the millisecond: 1,764,000,000,000 = 0x019ab697e800.
        #expect(earlier.hasPrefix("019ab697-e800-7"))
        #expect(earlier < later)
        let many = (0..<10_000).map { _ in Identifier.make() }
        #expect(Set(many).count == many.count)
    }
}

extension JSONWriterTests {
    /// A resource's JSON extended with members of its own: the resource's members as they were, then
    /// the new ones, in one object (an event's data: the contact plus `sourceId`, say).
    @Test func membersOfAnEncodedObjectAreCopiedIntoTheObjectBeingWritten() throws {
        let contact = try JSONCoding.encode(Self.contacts[1])
        var writer = JSONWriter()
        writer.beginObject()
        writer.members(of: contact)
        writer.key("sourceId")
        writer.string("c9")
        writer.endObject()
        var object = try jsonObject(writer.bytes)
        #expect(object.removeValue(forKey: "sourceId") as? String == "c9")
        #expect(NSDictionary(dictionary: object) == NSDictionary(dictionary: try jsonObject(contact)))

        var empty = JSONWriter()
        empty.beginObject()
        empty.members(of: Array("{}".utf8))
        empty.key("a")
        empty.int(1)
        empty.members(of: Array(#"{"b":2}"#.utf8))
        empty.endObject()
        #expect(String(decoding: empty.bytes, as: UTF8.self) == #"{"a":1,"b":2}"#)
    }
}
