import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Testing

@testable import ContactsService

/// The contacts service's events, through its real routes in-process (`ContactsFixture`): one per
/// change, in the change's transaction, with the contact as `GET /v1/contacts/{id}` shows it; none for
/// a refused request or a change that changes nothing.
@Suite struct ContactEventTests {
    @Test func aCreatedContactIsToldOnceWithItsJSONAsGETShowsIt() async throws {
        try await ContactsFixture.with { service in
            let id = try await service.create(#"{"name":"Ada","emails":["ada@example.com"],"tags":["vip"]}"#)
            let events = try service.recorded()
            #expect(events.map(\.type) == ["contact.created"])
            #expect(events.first?.data == (try await service.get(id)), "the data is the GET answer, byte for byte")
            #expect(events.first?.audience == nil, "contacts' events are for managers and services")
            #expect(events.first?.service == "contacts")

            // Refused: malformed (400), an identity another contact owns (409), a body of nothing (400).
            let head = try service.head()
            for body in [
                #"{"name":"Eve","emails":["not-an-email"]}"#, #"{"name":"Eve","emails":["ADA@example.com"]}"#, "{}",
            ] {
                let response = try await service.send("POST", "/v1/contacts", body)
                #expect([400, 409].contains(response.status), "\(body)")
            }
            #expect(try service.recorded(after: head).isEmpty)
        }
    }

    @Test func resolveTellsOnlyTheContactItCreates() async throws {
        try await ContactsFixture.with { service in
            let body = #"{"channel":"email","address":"New@Example.com","name":"Newton"}"#
            let first = try await service.send("POST", "/v1/contacts/resolve", body, as: .service)
            #expect(first.status == 201)
            let answer = try JSONParser.parse(first.body).objectValue
            #expect(answer?["created"] == .bool(true))
            let id = try #require(answer?["contact"]?.objectValue?["id"]?.stringValue)
            let events = try service.recorded()
            #expect(events.map(\.type) == ["contact.created"])
            #expect(events.first?.data == (try await service.get(id)))

            let again = try await service.send("POST", "/v1/contacts/resolve", body, as: .service)
            #expect(again.status == 200)
            #expect(try JSONParser.parse(again.body).objectValue?["created"] == .bool(false))
            let bad = try await service.send(
                "POST", "/v1/contacts/resolve", #"{"channel":"voice","address":"12345"}"#, as: .service)
            #expect(bad.status == 400)
            #expect(try service.recorded().count == 1, "found, not created; refused: nothing to tell")
        }
    }

    @Test func aPatchThatChangesSomethingIsToldAndOneThatChangesNothingIsNot() async throws {
        try await ContactsFixture.with { service in
            let id = try await service.create(#"{"name":"Ada","emails":["ada@example.com"]}"#)
            _ = try await service.create(#"{"name":"Bob","emails":["bob@example.com"]}"#)
            let head = try service.head()

            let patched = try await service.send("PATCH", "/v1/contacts/\(id)", #"{"attributes":{"plan":"gold"}}"#)
            #expect(patched.status == 200)
            var events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["contact.updated"])
            #expect(events.first?.data == (try await service.get(id)))
            #expect(events.first?.data == patched.body, "the answer and the event share one encoding")

            // A workflow saves an answer through the same route, with a service token.
            let saved = try await service.send(
                "PATCH", "/v1/contacts/\(id)", #"{"emails":["ada@example.com","ada@work.example"]}"#, as: .service)
            #expect(saved.status == 200)
            events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["contact.updated", "contact.updated"])

            let second = try service.head()
            for (body, status) in [
                (#"{"name":" Ada "}"#, 200),  // the same name once trimmed: no change
                (#"{"attributes":{"plan":"gold"}}"#, 200),
                (#"{"emails":["bob@example.com"]}"#, 409),
                (#"{"phones":["12345678"]}"#, 400),
                (#"{"name":"Eve\u001b"}"#, 400),
            ] {
                let response = try await service.send("PATCH", "/v1/contacts/\(id)", body)
                #expect(response.status == status, "\(body)")
            }
            #expect(try await service.send("PATCH", "/v1/contacts/nobody", #"{"name":"X"}"#).status == 404)
            #expect(try service.recorded(after: second).isEmpty)
        }
    }

    @Test func aMergeIsToldWithTheSurvivorAndBothIDs() async throws {
        try await ContactsFixture.with { service in
            let target = try await service.create(#"{"name":"Ada","emails":["ada@example.com"]}"#)
            let source = try await service.create(#"{"name":"A. Lovelace","phones":["+4511111111"]}"#)
            let head = try service.head()
            let merged = try await service.send("POST", "/v1/contacts/\(target)/merge", #"{"sourceId":"\#(source)"}"#)
            #expect(merged.status == 200)
            let events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["contact.merged"])
            let data = try #require(try events.first.flatMap { try JSONParser.parse($0.data).objectValue })
            var contact = data
            #expect(contact.removeValue(forKey: "sourceId") == .string(source))
            #expect(contact.removeValue(forKey: "targetId") == .string(target))
            #expect(JSONValue.object(contact) == (try JSONParser.parse(try await service.get(target))))
            #expect(contact["phones"] == .array([.string("+4511111111")]), "the survivor as it is after the merge")

            let after = try service.head()
            let refused = [
                (target, source, 409),  // the source is merged already
                (target, target, 422),  // into itself
                (target, "nobody", 404),
                ("nobody", target, 404),
            ]
            for (into, from, status) in refused {
                let response = try await service.send(
                    "POST", "/v1/contacts/\(into)/merge", #"{"sourceId":"\#(from)"}"#)
                #expect(response.status == status, "\(from) into \(into)")
            }
            #expect(try service.recorded(after: after).isEmpty)
        }
    }

    @Test func blockingAndUnblockingAreToldOncePerChange() async throws {
        try await ContactsFixture.with { service in
            let id = try await service.create(#"{"name":"Spammy","emails":["spam@example.com"]}"#)
            let head = try service.head()
            for path in ["block", "block", "unblock", "unblock", "block"] {
                #expect(try await service.send("POST", "/v1/contacts/\(id)/\(path)").status == 200)
            }
            #expect(try await service.send("POST", "/v1/contacts/nobody/block").status == 404)
            let events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["contact.blocked", "contact.unblocked", "contact.blocked"])
            #expect(events.last?.data == (try await service.get(id)))
            let blocked = try events.map { try JSONParser.parse($0.data).objectValue?["blocked"] }
            #expect(blocked == [.bool(true), .bool(false), .bool(true)])
        }
    }

    @Test func aHeroChangeIsToldWithTheHeroAndThePreviousOne() async throws {
        try await ContactsFixture.with { service in
            let id = try await service.create(#"{"name":"Vera","emails":["vera@example.com"]}"#)
            let head = try service.head()
            let agent = #"{"type":"agent","id":"\#(ContactsFixture.agent)"}"#
            let inbox = #"{"type":"inbox","id":"\#(ContactsFixture.inbox)"}"#
            let steps: [(method: String, body: String?, status: Int)] = [
                ("PUT", agent, 200),  // a first hero
                ("PUT", agent, 200),  // the same: no change
                ("PUT", inbox, 200),  // replaced
                ("PUT", #"{"type":"agent","id":"nobody"}"#, 422),
                ("PUT", #"{"type":"agent","id":"\#(ContactsFixture.deactivated)"}"#, 422),
                ("PUT", #"{"type":"team","id":"x"}"#, 400),
                ("DELETE", nil, 200),  // cleared
                ("DELETE", nil, 200),  // nothing to clear
            ]
            for step in steps {
                let response = try await service.send(step.method, "/v1/contacts/\(id)/dedicated-hero", step.body)
                #expect(response.status == step.status, "\(step.method) \(step.body ?? "")")
            }
            #expect(try await service.send("DELETE", "/v1/contacts/nobody/dedicated-hero").status == 404)

            let events = try service.recorded(after: head)
            #expect(events.map(\.type) == Array(repeating: "contact.hero_changed", count: 3))
            let heroes = try events.map { event -> (JSONValue?, JSONValue?) in
                // The parser refuses a repeated key: `dedicatedHero` is the contact's own, once.
                let data = try JSONParser.parse(event.data).objectValue
                return (data?["dedicatedHero"], data?["previousDedicatedHero"])
            }
            let agentHero = JSONValue.object(["type": .string("agent"), "id": .string(ContactsFixture.agent)])
            let inboxHero = JSONValue.object(["type": .string("inbox"), "id": .string(ContactsFixture.inbox)])
            #expect(heroes.map(\.0) == [agentHero, inboxHero, .null])
            #expect(heroes.map(\.1) == [.null, agentHero, inboxHero])
            var last = try #require(try events.last.flatMap { try JSONParser.parse($0.data).objectValue })
            last["previousDedicatedHero"] = nil
            #expect(JSONValue.object(last) == (try JSONParser.parse(try await service.get(id))))
        }
    }

    /// Routing deactivated an agent: each contact whose hero it was is told, once, however often the
    /// call is delivered.
    @Test func anAgentsDeactivationTellsEachOfItsContactsHeroChange() async throws {
        try await ContactsFixture.with { service in
            let agent = #"{"type":"agent","id":"\#(ContactsFixture.agent)"}"#
            var ids: [String] = []
            for name in ["Kim", "Lee"] {
                let id = try await service.create(#"{"name":"\#(name)"}"#)
                #expect(try await service.send("PUT", "/v1/contacts/\(id)/dedicated-hero", agent).status == 200)
                ids.append(id)
            }
            _ = try await service.create(#"{"name":"No hero"}"#)
            let head = try service.head()
            let body = #"{"agentId":"\#(ContactsFixture.agent)","heroInboxId":"\#(ContactsFixture.inbox)"}"#
            for _ in 0..<2 {
                let response = try await service.send(
                    "POST", "/v1/internal/agent-deactivations", body, as: .service,
                    headers: [("Idempotency-Key", "entry-1")])
                #expect(response.status == 200)
            }
            let events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["contact.hero_changed", "contact.hero_changed"])
            for (event, id) in zip(events, ids) {
                var data = try #require(try JSONParser.parse(event.data).objectValue)
                #expect(
                    data.removeValue(forKey: "previousDedicatedHero")
                        == .object(["type": .string("agent"), "id": .string(ContactsFixture.agent)]))
                #expect(JSONValue.object(data) == (try JSONParser.parse(try await service.get(id))))
            }
        }
    }
}

extension ContactEventTests {
    /// The OpenAPI document lists exactly the types the service tells.
    @Test func theOpenAPIDocumentListsEveryEventType() throws {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Services/concierge-contacts/openapi.json")
        let json = try JSONParser.parse(Array(try Data(contentsOf: document)))
        let listed = json.objectValue?["components"]?.objectValue?["schemas"]?.objectValue?["ContactEventType"]?
            .objectValue?["enum"]?.arrayValue?.compactMap(\.stringValue)
        let told: [ContactEvent] = [
            .created, .updated, .merged(sourceID: "s", targetID: "t"), .blocked, .unblocked,
            .heroChanged(previous: nil),
        ]
        #expect(listed.map(Set.init) == Set(told.map(\.type)))
        #expect(json.objectValue?["paths"]?.objectValue?["/v1/events"] != nil)
    }
}
