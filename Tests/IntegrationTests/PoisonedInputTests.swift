import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Input that would poison stored data is refused whole, and a refused request changes nothing.
@Suite struct PoisonedInputTests {
    private func problem(_ response: ClientResponse) throws -> Problem {
        try JSONDecoder().decode(Problem.self, from: Data(response.body))
    }

    /// The attack: a U+001F inside an email was stored as a list boundary, making a second email that
    /// another contact owns appear on this one and blocking every later PATCH of it with a 409.
    @Test func separatorAndControlCharactersInContactFieldsAre400AndStoreNothing() async throws {
        try await withServices([.contacts, .conversations]) { cluster in
            let victim = try await cluster.contacts().create(
                NewContact(name: "Victim", emails: ["victim@corp.example"]))
            let raw = cluster.raw(.contacts, token: cluster.token(.agent))
            let bodies: [(String, String)] = [
                (#"{"name":"X","emails":["x\u001fvictim@corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":["x\u0000y@corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":[".x@corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":["x.@corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":["x..y@corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":["x@-corp.example"]}"#, "emails[0]"),
                (#"{"name":"X","emails":["x@corp-.example"]}"#, "emails[0]"),
                (#"{"name":"Eve\u001b[2J"}"#, "name"),
                (#"{"name":"E\u0085ve"}"#, "name"),
                (#"{"name":"X","tags":["a\u001fb"]}"#, "tags[0]"),
                (#"{"name":"X","attributes":{"k":"v\u001ew"}}"#, "attributes.k"),
            ]
            for (body, field) in bodies {
                let response = try await raw.raw("POST", "/v1/contacts", body: Array(body.utf8))
                #expect(response.status == 400, "\(body)")
                #expect(try problem(response).errors?.first?.field == field, "\(body)")
            }
            // Also through PATCH and resolve: refused, the contact unchanged.
            let patch = try await raw.raw(
                "PATCH", "/v1/contacts/\(victim.id)", body: Array(#"{"emails":["a\u001fb@corp.example"]}"#.utf8))
            #expect(patch.status == 400)
            let resolve = try await cluster.raw(.contacts, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/contacts/resolve",
                    body: Array(#"{"channel":"email","address":"x\u001fvictim@corp.example"}"#.utf8))
            #expect(resolve.status == 400)
            #expect(try await cluster.contacts().get(victim.id) == victim)
            #expect(try await cluster.contacts().search(.init(q: "")).items.map(\.id) == [victim.id])

            // And through /v1/inbound's from: 400, no contact, no conversation.
            let inbound = try await cluster.raw(.conversations, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/inbound",
                    body: Array(#"{"channel":"email","from":"x\u001fvictim@corp.example","body":"hi"}"#.utf8))
            #expect(inbound.status == 400)
            #expect(try problem(inbound).errors?.first?.field == "from")
            let inboundName = try await cluster.raw(.conversations, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/inbound",
                    body: Array(#"{"channel":"email","from":"new@corp.example","name":"\u0000","body":"hi"}"#.utf8))
            #expect(inboundName.status == 400)
            #expect(try await cluster.contacts().search(.init(q: "")).items.map(\.id) == [victim.id])
            #expect(try await cluster.conversations().conversations().items.isEmpty)
        }
    }

    @Test func limitsAre400NamingTheFieldOnCreatePatchAndResolve() async throws {
        try await withServices([.contacts]) { cluster in
            let contact = try await cluster.contacts().create(NewContact(name: "Kept", emails: ["kept@example.com"]))
            let raw = cluster.raw(.contacts, token: cluster.token(.agent))
            func json(_ value: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: value)) }
            let cases: [([String: Any], String)] = [
                (["name": String(repeating: "n", count: 201)], "name"),
                (["name": String(repeating: "n", count: 1 << 20 - 100)], "name"),
                (["emails": (0..<51).map { "e\($0)@example.com" }], "emails"),
                (["phones": (0..<51).map { "+4511111\(100 + $0)" }], "phones"),
                (["handles": (0..<51).map { ["channel": "chat", "value": "h\($0)"] }], "handles"),
                (["tags": (0..<101).map { "t\($0)" }], "tags"),
                (["tags": [String(repeating: "t", count: 101)]], "tags[0]"),
                (["attributes": Dictionary(uniqueKeysWithValues: (0..<201).map { ("k\($0)", "v") })], "attributes"),
                (
                    ["attributes": [String(repeating: "k", count: 101): "v"]],
                    "attributes.\(String(repeating: "k", count: 101))"
                ),
                (["attributes": ["k": String(repeating: "v", count: 4097)]], "attributes.k"),
            ]
            for (body, field) in cases {
                var create = body
                if create["name"] == nil { create["name"] = "X" }
                let created = try await raw.raw("POST", "/v1/contacts", body: try json(create))
                #expect(created.status == 400, "create \(field)")
                #expect(try problem(created).errors?.first?.field == field, "create \(field)")
                let patched = try await raw.raw("PATCH", "/v1/contacts/\(contact.id)", body: try json(body))
                #expect(patched.status == 400, "patch \(field)")
                #expect(try problem(patched).errors?.first?.field == field, "patch \(field)")
            }
            // The largest accepted: exactly at each limit.
            let atLimit = try await raw.raw(
                "POST", "/v1/contacts",
                body: try json([
                    "name": String(repeating: "n", count: 200), "emails": (0..<50).map { "e\($0)@example.com" },
                    "tags": (0..<100).map { "t\($0)" },
                    "attributes": Dictionary(uniqueKeysWithValues: (0..<200).map { ("k\($0)", "v") }),
                ]))
            #expect(atLimit.status == 201)
            let resolve = try await cluster.raw(.contacts, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/contacts/resolve",
                    body: try json([
                        "channel": "email", "address": "r@example.com", "name": String(repeating: "n", count: 201),
                    ]))
            #expect(resolve.status == 400)
            #expect(try problem(resolve).errors?.first?.field == "name")
            #expect(try await cluster.contacts().get(contact.id) == contact)
            #expect(try await cluster.contacts().search(.init(email: "r@example.com")).items.isEmpty)
        }
    }

    @Test func mergeBeyondALimitIs422AndMergesNothing() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts()
            let target = try await contacts.create(NewContact(name: "T", emails: (0..<30).map { "t\($0)@example.com" }))
            let source = try await contacts.create(NewContact(name: "S", emails: (0..<30).map { "s\($0)@example.com" }))
            let response = try await cluster.raw(.contacts, token: cluster.token(.teamManager))
                .raw("POST", "/v1/contacts/\(target.id)/merge", body: Array(#"{"sourceId":"\#(source.id)"}"#.utf8))
            #expect(response.status == 422)
            #expect(try problem(response).errors?.first?.field == "emails")
            #expect(try await contacts.get(target.id) == target)
            #expect(try await contacts.get(source.id) == source)
        }
    }

    @Test func emptyContactsDuplicateKeysAndBadQueriesAre400() async throws {
        try await withServices([.contacts]) { cluster in
            let contact = try await cluster.contacts().create(NewContact(name: "Solo", emails: ["solo@example.com"]))
            let raw = cluster.raw(.contacts, token: cluster.token(.agent))
            for body in ["{}", #"{"name":"   "}"#, #"{"name":"","emails":[],"tags":["t"]}"#] {
                let response = try await raw.raw("POST", "/v1/contacts", body: Array(body.utf8))
                #expect(response.status == 400, "\(body)")
                #expect(try problem(response).errors?.first?.field == "name", "\(body)")
            }
            // A PATCH that would leave the contact with neither name nor identity.
            let emptied = try await raw.raw(
                "PATCH", "/v1/contacts/\(contact.id)", body: Array(#"{"name":"","emails":null}"#.utf8))
            #expect(emptied.status == 400)
            // A repeated key, also one whose second value hides a lone surrogate, on a Decodable body,
            // a fast-read body and a merge patch.
            let repeated: [(String, String)] = [
                ("POST", #"{"name":"A","name":"B"}"#),
                ("POST", #"{"name":"A","emails":["a@example.com"],"emails":["\ud800"]}"#),
                ("PATCH", #"{"name":"A","name":"B"}"#),
            ]
            for (method, body) in repeated {
                let path = method == "POST" ? "/v1/contacts" : "/v1/contacts/\(contact.id)"
                let response = try await raw.raw(method, path, body: Array(body.utf8))
                #expect(response.status == 400, "\(method) \(body)")
            }
            let resolve = try await cluster.raw(.contacts, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/contacts/resolve",
                    body: Array(#"{"channel":"email","address":"n@example.com","address":"\ud800"}"#.utf8))
            #expect(resolve.status == 400)
            for query in ["q=%zz", "q=%", "q=a%2", "email=%ff%fe", "%zz=1"] {
                let response = try await raw.raw("GET", "/v1/contacts?\(query)")
                #expect(response.status == 400, "\(query)")
            }
            #expect(try await cluster.contacts().get(contact.id) == contact)
            #expect(try await cluster.contacts().search(.init(q: "")).items.map(\.id) == [contact.id])
        }
    }

    @Test func internalRoutesCheckTheirBodies() async throws {
        try await withServices([.contacts, .conversations]) { cluster in
            let result = try await cluster.conversations().inbound(
                InboundRequest(channel: .email, from: "ann@example.com", body: "hello"))
            let conversationID = try #require(result.conversationId)
            let before = try await cluster.conversations().conversation(conversationID)
            let service = cluster.raw(.conversations, token: cluster.token(.service))
            let decisions: [(String, String)] = [
                (
                    #"{"conversationId":"\#(conversationID)","routingState":"assigned","assigneeId":"ghost","version":99}"#,
                    "decidedAt"
                ),
                (
                    #"{"conversationId":"\#(conversationID)","routingState":"assigned","assigneeId":"ghost","version":99,"decidedAt":""}"#,
                    "decidedAt"
                ),
                (
                    #"{"conversationId":"\#(conversationID)","routingState":"assigned","assigneeId":"ghost","version":99,"decidedAt":"yesterday"}"#,
                    "decidedAt"
                ),
                (
                    #"{"conversationId":"\#(conversationID)","routingState":"assigned","assigneeId":"","version":99,"decidedAt":"2026-11-22T14:05:09.123Z"}"#,
                    "assigneeId"
                ),
                (
                    #"{"conversationId":"","routingState":"assigned","assigneeId":"ghost","version":99,"decidedAt":"2026-11-22T14:05:09.123Z"}"#,
                    "conversationId"
                ),
            ]
            for (body, field) in decisions {
                let response = try await service.raw("POST", "/v1/internal/routing-decisions", body: Array(body.utf8))
                #expect(response.status == 400, "\(body)")
                #expect(try problem(response).errors?.first?.field == field, "\(body)")
            }
            #expect(try await cluster.conversations().conversation(conversationID) == before)

            let snapshot =
                #"{"id":"c1","name":"","emails":[],"phones":[],"handles":[],"tags":[],"attributes":{},"blocked":false,"createdAt":"2026-11-22T14:05:09.123Z","updatedAt":""}"#
            let snapshotResponse = try await service.raw(
                "POST", "/v1/internal/contact-snapshots", body: Array(snapshot.utf8))
            #expect(snapshotResponse.status == 400)
            #expect(try problem(snapshotResponse).errors?.first?.field == "updatedAt")
            let merge = try await service.raw(
                "POST", "/v1/internal/contact-merges", body: Array(#"{"sourceId":"","targetId":"x"}"#.utf8))
            #expect(merge.status == 400)

            let handover = try await cluster.raw(.contacts, token: cluster.token(.service))
                .raw(
                    "POST", "/v1/internal/agent-deactivations",
                    body: Array(#"{"agentId":"","heroInboxId":"inbox"}"#.utf8))
            #expect(handover.status == 400)
        }
    }

    /// An optional field of a create or command body may be left out, not sent as `null` — as `PATCH`
    /// refuses `name: null` — on public and internal routes alike.
    @Test func nullForAnOptionalFieldIs400NamingIt() async throws {
        try await withServices([.contacts, .conversations, .routing]) { cluster in
            let service = cluster.token(.service)
            let admin = cluster.token(.administrator)
            let cases: [(ServiceKind, String, String, String, String)] = [
                (
                    .contacts, service, "/v1/contacts/resolve",
                    #"{"channel":"email","address":"n@example.com","name":null}"#, "name"
                ),
                (.contacts, admin, "/v1/contacts", #"{"name":"N","tags":null}"#, "tags"),
                (
                    .conversations, service, "/v1/inbound",
                    #"{"channel":"email","from":"n@example.com","body":"hi","externalId":null}"#, "externalId"
                ),
                (.routing, admin, "/v1/agents", #"{"name":"A","email":"a@example.com","inboxIds":null}"#, "inboxIds"),
                (.routing, admin, "/v1/inboxes", #"{"name":"I","defaultFor":null}"#, "defaultFor"),
                (.routing, admin, "/v1/queues", #"{"name":"Q","inboxId":"x","priority":null}"#, "priority"),
                (
                    .routing, service, "/v1/route",
                    #"{"conversationId":"c","event":"new","channel":"email","contact":{"id":"k"},"message":{"id":"m","body":null}}"#,
                    "message.body"
                ),
            ]
            for (kind, token, path, body, field) in cases {
                let response = try await cluster.raw(kind, token: token).raw("POST", path, body: Array(body.utf8))
                #expect(response.status == 400, "\(path) \(body)")
                #expect(try problem(response).errors?.first?.field == field, "\(path)")
            }
            #expect(try await cluster.contacts().search(.init(q: "")).items.isEmpty)
            #expect(try await cluster.conversations().conversations().items.isEmpty)
            #expect(try await cluster.routing().agents().items.isEmpty)
            #expect(try await cluster.routing().inboxes().items.isEmpty)
        }
    }

    @Test func dedicatedHeroWithAnEmptyIDIs400AndLeaksNothing() async throws {
        try await withServices([.contacts, .routing]) { cluster in
            let contact = try await cluster.contacts().create(NewContact(name: "H", emails: ["h@example.com"]))
            let response = try await cluster.raw(.contacts, token: cluster.token(.agent))
                .raw("PUT", "/v1/contacts/\(contact.id)/dedicated-hero", body: Array(#"{"type":"agent","id":""}"#.utf8))
            #expect(response.status == 400)
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(!text.contains("DecodingError") && !text.contains("keyNotFound") && !text.contains("CodingKeys"))
            #expect(try problem(response).errors?.first?.field == "id")
            #expect(try await cluster.contacts().get(contact.id) == contact)
        }
    }

    /// The one check runs wherever a service stores text: routing's names and signatures, folder
    /// names, the CRM directory. A signature may span lines; a name may not. Nothing is stored.
    @Test func everyServiceRefusesControlCharactersInWhatItStores() async throws {
        try await withServices([.contacts, .conversations, .routing, .crmLookup]) { cluster in
            let admin = cluster.token(.administrator)
            let rule = #"{"field": "conversation.status", "op": "equals", "value": "open"}"#
            let cases: [(ServiceKind, String, String, String)] = [
                (.routing, "/v1/agents", #"{"name":"Eve\u001b[2J","email":"eve@example.com"}"#, "name"),
                (.routing, "/v1/agents", #"{"name":"Eve","email":"eve\u0000@example.com"}"#, "email"),
                (.routing, "/v1/inboxes", #"{"name":"Desk","signature":"bye\u0000"}"#, "signature"),
                (.routing, "/v1/inboxes", #"{"name":"Desk","senderName":"Desk\n"}"#, "senderName"),
                (.conversations, "/v1/folders", #"{"name":"a\u001fb","rule":\#(rule)}"#, "name"),
                (.crmLookup, "/v1/customers", #"{"email":"c@example.com","customerType":"VIP\u001f"}"#, "customerType"),
                (
                    .crmLookup, "/v1/customers", #"{"email":"c@example.com","attributes":{"note":["x\u0000"]}}"#,
                    "attributes.note"
                ),
            ]
            for (kind, path, body, field) in cases {
                let response = try await cluster.raw(kind, token: admin).raw("POST", path, body: Array(body.utf8))
                // Routing answers its field rules (a name's length, an unknown inbox) with 422; so this one too.
                #expect(response.status == (kind == .routing ? 422 : 400), "\(path) \(body)")
                #expect(try problem(response).errors?.first?.field == field, "\(path) \(body)")
            }
            for body in [
                #"{"urlTemplate":"http://crm.example/c?email={{email}}","headers":{"X-Key":"a\u0000b"}}"#,
                #"{"urlTemplate":"http://crm.example/c?email={{email}}\u001f"}"#,
            ] {
                let response = try await cluster.raw(.crmLookup, token: admin).raw(
                    "PUT", "/v1/sources/crm", body: Array(body.utf8))
                #expect(response.status == 422, "\(body)")
            }
            #expect(try await cluster.routing().agents().items.isEmpty)
            #expect(try await cluster.routing().inboxes().items.isEmpty)
            #expect(try await cluster.crmLookup().lookup(email: "c@example.com").found == false)
            #expect(try await cluster.raw(.crmLookup, token: admin).raw("GET", "/v1/sources/crm").status == 404)
            // Line breaks stay allowed where text spans lines.
            let inbox = try await cluster.raw(.routing, token: admin)
                .raw("POST", "/v1/inboxes", body: Array(#"{"name":"Desk","signature":"Regards,\r\n\tThe desk"}"#.utf8))
            #expect(inbox.status == 201)
            let customer = try await cluster.raw(.crmLookup, token: admin)
                .raw(
                    "POST", "/v1/customers",
                    body: Array(#"{"email":"c@example.com","attributes":{"note":"line one\nline two"}}"#.utf8))
            #expect(customer.status == 200 || customer.status == 201)
        }
    }

    /// The served documents state the limits the services enforce, and the refusals' answers.
    @Test func openAPIDocumentsStateTheLimits() async throws {
        try await withServices([.contacts, .crmLookup]) { cluster in
            func document(_ kind: ServiceKind) async throws -> [String: Any] {
                let response = try await cluster.raw(kind).raw("GET", "/openapi.json")
                return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            }
            func object(_ value: Any?, _ keys: String...) -> [String: Any]? {
                keys.reduce(value as? [String: Any]) { $0?[$1] as? [String: Any] }
            }
            let contacts = try await document(.contacts)
            let newContact = try #require(object(contacts, "components", "schemas", "NewContact", "properties"))
            #expect(object(newContact, "name")?["maxLength"] as? Int == 200)
            for list in ["emails", "phones", "handles"] {
                #expect(object(newContact, list)?["maxItems"] as? Int == 50, "\(list)")
            }
            #expect(object(newContact, "tags")?["maxItems"] as? Int == 100)
            #expect(object(newContact, "attributes")?["maxProperties"] as? Int == 200)
            #expect(object(newContact, "attributes", "additionalProperties")?["maxLength"] as? Int == 4096)
            #expect(object(contacts, "paths", "/v1/contacts/{id}/merge", "post", "responses", "422") != nil)
            let hero = try #require(object(contacts, "components", "schemas", "DedicatedHero", "properties", "id"))
            #expect(hero["minLength"] as? Int == 1)
            let crm = try await document(.crmLookup)
            #expect(object(crm, "paths", "/v1/customers/import", "post", "responses", "422") != nil)
        }
    }

    @Test func csvImportWithoutEmailOrPhoneColumnIs422() async throws {
        try await withServices([.crmLookup]) { cluster in
            let csv = "name,customerType\r\nAda,VIP\r\n"
            let response = try await cluster.raw(.crmLookup, token: cluster.token(.administrator))
                .raw("POST", "/v1/customers/import", body: Array(csv.utf8), contentType: "text/csv")
            #expect(response.status == 422)
            let problem = try problem(response)
            #expect(problem.errors?.first?.field == "header")
            #expect(problem.detail?.contains("email") == true && problem.detail?.contains("phone") == true)
        }
    }
}
