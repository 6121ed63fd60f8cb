import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The contacts service as a real process, through `ContactsClient` (SPEC §3).
@Suite struct ContactsTests {
    @Test func createNormalisesIdentitiesAndReadsBack() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts()
            let created = try await contacts.create(
                NewContact(
                    name: " Ada Lovelace ", emails: [" Ada@Example.COM "], phones: ["+45 12 34-56 (78)"],
                    handles: [Handle(channel: "messaging", value: "ada-chat")], tags: ["VIP", "vip", "gold"],
                    attributes: ["plan": "pro"]))
            #expect(created.name == "Ada Lovelace")
            #expect(created.emails == ["ada@example.com"])
            #expect(created.phones == ["+4512345678"])
            #expect(created.tags == ["VIP", "gold"])
            #expect(created.blocked == false)
            #expect(created.dedicatedHero == nil)
            #expect(created.mergedInto == nil)
            let read = try await contacts.get(created.id)
            #expect(read == created)
        }
    }

    @Test func contactJSONCarriesExplicitNulls() async throws {
        try await withServices([.contacts]) { cluster in
            let created = try await cluster.contacts().create(NewContact(name: "Nell"))
            let response = try await cluster.raw(.contacts, token: cluster.token(.agent)).raw(
                "GET", "/v1/contacts/\(created.id)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(object["dedicatedHero"] is NSNull)
            #expect(object["mergedInto"] is NSNull)
            #expect(response.header("content-type") == "application/json")
        }
    }

    @Test func identityClashIsAConflictNamingTheOtherContact() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts()
            let first = try await contacts.create(
                NewContact(name: "A", emails: ["a@example.com"], phones: ["+4511111111"]))
            for input in [
                NewContact(name: "B", emails: ["A@EXAMPLE.com"]),
                NewContact(name: "C", phones: ["+45 11 11 11 11"]),
            ] {
                let error = await #expect(throws: ServiceError.self) { try await contacts.create(input) }
                guard case .problem(let problem) = error else {
                    Issue.record("expected a problem")
                    continue
                }
                #expect(problem.status == 409)
                #expect(problem.detail?.contains(first.id) == true)
            }
            // Nothing half-written: the clashing contacts do not exist.
            let page = try await contacts.search(.init(q: ""))
            #expect(page.items.map(\.id) == [first.id])
        }
    }

    @Test(arguments: [
        (#"{"name":"X","emails":["not-an-email"]}"#, "emails[0]"),
        (#"{"name":"X","emails":["a@b.c","two@@b.c"]}"#, "emails[1]"),
        (#"{"name":"X","phones":["12345678"]}"#, "phones[0]"),
        (#"{"name":"X","phones":["+12ab"]}"#, "phones[0]"),
        (#"{"name":5}"#, "name"),
        (#"{"emails":"a@b.c"}"#, "emails"),
        (#"{"handles":[{"channel":"messaging"}]}"#, "handles[0].value"),
        (#"{"attributes":{"plan":7}}"#, "attributes.plan"),
    ])
    func badFieldsAre400NamingTheField(body: String, field: String) async throws {
        try await withServices([.contacts]) { cluster in
            let response = try await cluster.raw(.contacts, token: cluster.token(.agent))
                .raw("POST", "/v1/contacts", body: Array(body.utf8))
            #expect(response.status == 400)
            #expect(response.header("content-type") == "application/problem+json")
            let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
            #expect(problem.errors?.first?.field == field)
        }
    }

    @Test func malformedRequestsGetPreciseProblems() async throws {
        try await withServices([.contacts]) { cluster in
            let client = cluster.raw(.contacts, token: cluster.token(.agent))
            let wrongType = try await client.raw(
                "POST", "/v1/contacts", body: Array("{}".utf8), contentType: "text/plain")
            #expect(wrongType.status == 415)
            let badJSON = try await client.raw("POST", "/v1/contacts", body: Array("{\"name\":".utf8))
            #expect(badJSON.status == 400)
            let tooBig = try await client.raw(
                "POST", "/v1/contacts",
                body: Array(("{\"name\":\"" + String(repeating: "x", count: 1_100_000) + "\"}").utf8))
            #expect(tooBig.status == 413)
            let unknown = try await client.raw("GET", "/v1/contacts/no-such-id")
            #expect(unknown.status == 404)
            let badLimit = try await client.raw("GET", "/v1/contacts?limit=501")
            #expect(badLimit.status == 400)
            let badCursor = try await client.raw("GET", "/v1/contacts?cursor=abc")
            #expect(badCursor.status == 400)
            // The service is still healthy and nothing was stored.
            #expect(try await cluster.contacts().search().items.isEmpty)
        }
    }

    @Test func tokensAndRolesAreEnforced() async throws {
        try await withServices([.contacts]) { cluster in
            let url = "/v1/contacts"
            #expect(try await cluster.raw(.contacts).raw("GET", url).status == 401)
            let expired = cluster.signer.mint(
                Claims(sub: "a", role: .agent, exp: Int(Date().timeIntervalSince1970) - 120))
            #expect(try await cluster.raw(.contacts, token: expired).raw("GET", url).status == 401)
            let forged = JWTSignerFactory.other.mint(sub: "a", role: .administrator, ttl: 60)
            #expect(try await cluster.raw(.contacts, token: forged).raw("GET", url).status == 401)
            #expect(try await cluster.raw(.contacts, token: "not.a.jwt").raw("GET", url).status == 401)
            let agent = cluster.raw(.contacts, token: cluster.token(.agent))
            #expect(try await agent.raw("GET", url).status == 200)
            let resolve = #"{"channel":"email","address":"x@example.com"}"#
            #expect(try await agent.raw("POST", "/v1/contacts/resolve", body: Array(resolve.utf8)).status == 403)
            let created = try await cluster.contacts().create(NewContact(name: "Z"))
            #expect(try await agent.raw("POST", "/v1/contacts/\(created.id)/block").status == 403)
            let manager = cluster.raw(.contacts, token: cluster.token(.teamManager))
            #expect(try await manager.raw("POST", "/v1/contacts/\(created.id)/block").status == 200)
            let service = cluster.raw(.contacts, token: cluster.token(.service))
            #expect(try await service.raw("POST", "/v1/contacts/resolve", body: Array(resolve.utf8)).status == 201)
        }
    }

    @Test func patchMergesAttributesAndReplacesLists() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts(as: .agent)
            let created = try await contacts.create(
                NewContact(
                    name: "Bo", emails: ["bo@example.com"], tags: ["a"],
                    attributes: ["plan": "basic", "city": "Aarhus"]))
            let patched = try await contacts.update(
                created.id,
                ContactPatch(
                    name: "Bo Berg", emails: ["bo@berg.dk", "BO@example.com"], tags: ["b"],
                    attributes: ["plan": "pro", "city": nil, "lang": "da"]))
            #expect(patched.name == "Bo Berg")
            #expect(patched.emails == ["bo@berg.dk", "bo@example.com"])
            #expect(patched.tags == ["b"])
            #expect(patched.attributes == ["plan": "pro", "lang": "da"])
            #expect(patched.createdAt == created.createdAt)
            // The old list is gone: the dropped tag no longer finds it, the new one does.
            #expect(try await contacts.search(.init(tag: "a")).items.isEmpty)
            #expect(try await contacts.search(.init(tag: "B")).items.map(\.id) == [created.id])
            let other = try await contacts.create(NewContact(name: "Other", emails: ["other@example.com"]))
            let clash = await #expect(throws: ServiceError.self) {
                try await contacts.update(other.id, ContactPatch(emails: ["bo@berg.dk"]))
            }
            #expect(clash?.status == 409)
            #expect(try await contacts.get(other.id).emails == ["other@example.com"])
        }
    }

    @Test func searchFiltersAndPagesNewestFirst() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts()
            var ids: [String] = []
            for i in 0..<7 {
                let contact = try await contacts.create(
                    NewContact(
                        name: "Person \(i)", emails: ["p\(i)@example.com"], phones: ["+4520000\(100 + i)"],
                        tags: i % 2 == 0 ? ["Even"] : []))
                ids.append(contact.id)
            }
            #expect(try await contacts.search(.init(email: "P3@example.com")).items.map(\.id) == [ids[3]])
            #expect(try await contacts.search(.init(phone: "+45 2000 0105")).items.map(\.id) == [ids[5]])
            #expect(try await contacts.search(.init(tag: "even")).items.map(\.id) == [ids[6], ids[4], ids[2], ids[0]])
            #expect(try await contacts.search(.init(q: "PERSON 1")).items.map(\.id) == [ids[1]])
            // Case-insensitive beyond ASCII (SPEC §3), in either direction.
            let soren = try await contacts.create(NewContact(name: "Søren Ørsted", emails: ["soren@example.dk"]))
            #expect(try await contacts.search(.init(q: "ørsted")).items.map(\.id) == [soren.id])
            #expect(try await contacts.search(.init(q: "SØREN ØR")).items.map(\.id) == [soren.id])
            _ = try await contacts.update(soren.id, ContactPatch(name: "Åse Ærø"))
            #expect(try await contacts.search(.init(q: "ørsted")).items.isEmpty)
            #expect(try await contacts.search(.init(q: "åSE æ")).items.map(\.id) == [soren.id])
            // Changing other fields leaves the name searchable.
            _ = try await contacts.update(soren.id, ContactPatch(tags: ["x"]))
            #expect(try await contacts.search(.init(q: "ÆRØ")).items.map(\.id) == [soren.id])
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await contacts.search(.init(limit: 3, cursor: cursor))
                #expect(page.items.count <= 3)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == [soren.id] + ids.reversed())
        }
    }

    @Test func resolveFindsOrCreatesByChannelRules() async throws {
        try await withServices([.contacts]) { cluster in
            let service = cluster.contacts(as: .service)
            let email = try await service.resolve(
                ResolveRequest(channel: .email, address: " Eve@Example.com ", name: "Eve"))
            #expect(email.created)
            #expect(email.contact.emails == ["eve@example.com"])
            #expect(email.contact.name == "Eve")
            let again = try await service.resolve(ResolveRequest(channel: .email, address: "eve@example.com"))
            #expect(!again.created)
            #expect(again.contact.id == email.contact.id)
            let call = try await service.resolve(ResolveRequest(channel: .voice, address: "+45 30 30 30 30"))
            #expect(call.created)
            let chatByPhone = try await service.resolve(ResolveRequest(channel: .messaging, address: "+4530303030"))
            #expect(chatByPhone.contact.id == call.contact.id)
            let voicemail = try await service.resolve(ResolveRequest(channel: .voicemail, address: "+4530303030"))
            #expect(voicemail.contact.id == call.contact.id)
            let chat = try await service.resolve(ResolveRequest(channel: .messaging, address: "web-visitor-42"))
            #expect(chat.created)
            #expect(chat.contact.handles == [Handle(channel: "messaging", value: "web-visitor-42")])
            let badVoice = await #expect(throws: ServiceError.self) {
                try await service.resolve(ResolveRequest(channel: .voice, address: "30303030"))
            }
            #expect(badVoice?.status == 400)
        }
    }

    @Test func concurrentResolvesOfOneNewAddressMakeOneContact() async throws {
        try await withServices([.contacts]) { cluster in
            let service = cluster.contacts(as: .service)
            let results = try await withThrowingTaskGroup(of: ResolveResult.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await service.resolve(ResolveRequest(channel: .email, address: "race@example.com"))
                    }
                }
                return try await group.reduce(into: [ResolveResult]()) { $0.append($1) }
            }
            #expect(Set(results.map(\.contact.id)).count == 1)
            #expect(results.filter(\.created).count == 1)
            #expect(try await cluster.contacts().search(.init(email: "race@example.com")).items.count == 1)
        }
    }

    @Test func mergeMovesIdentitiesTagsAttributesAndHero() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts(as: .teamManager)
            let target = try await contacts.create(
                NewContact(name: "Target", emails: ["t@example.com"], tags: ["keep"], attributes: ["plan": "gold"]))
            let source = try await contacts.create(
                NewContact(
                    name: "Source", emails: ["s@example.com"], phones: ["+4540404040"], tags: ["Keep", "extra"],
                    attributes: ["plan": "basic", "lang": "de"]))
            let depthBefore = try await Self.outboxDepth(cluster, target: "conversations")
            let merged = try await contacts.merge(into: target.id, sourceID: source.id)
            #expect(merged.id == target.id)
            #expect(Set(merged.emails) == ["t@example.com", "s@example.com"])
            #expect(merged.phones == ["+4540404040"])
            #expect(merged.tags == ["keep", "extra"])
            #expect(merged.attributes == ["plan": "gold", "lang": "de"])
            // The source answers as the survivor, and its identities now resolve to the target.
            #expect(try await contacts.get(source.id).id == target.id)
            let resolved = try await cluster.contacts(as: .service).resolve(
                ResolveRequest(channel: .email, address: "s@example.com"))
            #expect(resolved.contact.id == target.id)
            #expect(!resolved.created)
            #expect(try await contacts.search(.init(q: "source")).items.isEmpty)
            let twice = await #expect(throws: ServiceError.self) {
                try await contacts.merge(into: target.id, sourceID: source.id)
            }
            #expect(twice?.status == 409)
            let itself = await #expect(throws: ServiceError.self) {
                try await contacts.merge(into: target.id, sourceID: target.id)
            }
            #expect(itself?.status == 422)
            let agentTry = await #expect(throws: ServiceError.self) {
                try await cluster.contacts(as: .agent).merge(into: target.id, sourceID: source.id)
            }
            #expect(agentTry?.status == 403)
            // The move of conversations and the survivor's new identities are announced to the
            // conversations service (not running here) through the outbox: two more entries wait.
            #expect(try await Self.outboxDepth(cluster, target: "conversations") == depthBefore + 2)
        }
    }

    @Test func blockAndUnblock() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts(as: .teamManager)
            let contact = try await contacts.create(NewContact(name: "Spammy", emails: ["spam@example.com"]))
            #expect(try await contacts.block(contact.id).blocked)
            #expect(try await contacts.get(contact.id).blocked)
            #expect(try await contacts.unblock(contact.id).blocked == false)
            let unknown = await #expect(throws: ServiceError.self) { try await contacts.block("nope") }
            #expect(unknown?.status == 404)
        }
    }

    @Test func dedicatedHeroNeedsRoutingToCheckIt() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts(as: .agent)
            let contact = try await contacts.create(NewContact(name: "Hero seeker"))
            // Routing is not running in this cluster: the hero cannot be checked → 503, nothing stored.
            let down = await #expect(throws: ServiceError.self) {
                try await contacts.setDedicatedHero(contact.id, DedicatedHero(type: .agent, id: "agent-1"))
            }
            #expect(down?.status == 503)
            #expect(try await contacts.get(contact.id).dedicatedHero == nil)
            let missing = await #expect(throws: ServiceError.self) {
                try await contacts.setDedicatedHero("no-such-contact", DedicatedHero(type: .agent, id: "agent-1"))
            }
            #expect(missing?.status == 404)
            let badType = try await cluster.raw(.contacts, token: cluster.token(.agent))
                .raw(
                    "PUT", "/v1/contacts/\(contact.id)/dedicated-hero", body: Array(#"{"type":"robot","id":"x"}"#.utf8))
            #expect(badType.status == 400)
        }
    }

    @Test func agentDeactivationHandoverIsAppliedOnce() async throws {
        try await withServices([.contacts]) { cluster in
            let service = cluster.raw(.contacts, token: cluster.token(.service))
            let body = Array(#"{"agentId":"agent-1","heroInboxId":"inbox-1"}"#.utf8)
            let first = try await service.raw(
                "POST", "/v1/internal/agent-deactivations", body: body, headers: [("Idempotency-Key", "entry-1")])
            #expect(first.status == 200)
            let retry = try await service.raw(
                "POST", "/v1/internal/agent-deactivations", body: body, headers: [("Idempotency-Key", "entry-1")])
            #expect(retry.status == 200)
            #expect(try JSONDecoder().decode(HandoverResult.self, from: Data(retry.body)).contactsUpdated == 0)
            let agent = cluster.raw(.contacts, token: cluster.token(.agent))
            #expect(try await agent.raw("POST", "/v1/internal/agent-deactivations", body: body).status == 403)
        }
    }

    @Test func dataSurvivesARestart() async throws {
        try await withServices([.contacts]) { cluster in
            let contacts = cluster.contacts()
            let created = try await contacts.create(NewContact(name: "Durable", emails: ["durable@example.com"]))
            let service = try cluster.service(.contacts)
            try await service.restart(hard: true)
            #expect(try await contacts.get(created.id) == created)
            let status = await service.stop()
            #expect(status == 0)
        }
    }

    @Test func sharedRoutesAreOpen() async throws {
        try await withServices([.contacts]) { cluster in
            let client = cluster.raw(.contacts)
            #expect(try await client.health().status == "ok")
            #expect(try await client.ready().status == "ok")
            let openapi = try await client.raw("GET", "/openapi.json")
            #expect(openapi.status == 200)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(openapi.body)) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            #expect(paths["/v1/contacts/resolve"] != nil)
            let metrics = try await client.raw("GET", "/metrics")
            #expect(
                String(decoding: metrics.body, as: UTF8.self).contains(
                    "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"))
        }
    }
}

extension ContactsTests {
    /// The `concierge_outbox_depth` gauge of the contacts service for one target (0 when absent).
    static func outboxDepth(_ cluster: TestCluster, target: String) async throws -> Int {
        let metrics = try await cluster.raw(.contacts).raw("GET", "/metrics")
        let prefix = "concierge_outbox_depth{target=\"\(target)\"} "
        let line = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }
}

/// A signer with a secret the services do not know, for forged tokens.
enum JWTSignerFactory {
    static let other = JWTSigner(secret: "a-completely-different-secret-of-40-bytes")
}
