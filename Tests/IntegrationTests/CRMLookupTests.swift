import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

@testable import Storage

/// The CRM-lookup service as a real process (SPEC §7): the directory, external sources against a
/// fake CRM served in-process by our own `HTTPServer`, and imports.
@Suite struct CRMLookupTests {
    // MARK: - Directory

    @Test func upsertCreatesThenUpdatesByEmailAndNormalises() async throws {
        try await withServices([.crmLookup]) { cluster in
            let admin = cluster.raw(.crmLookup, token: cluster.token(.administrator))
            let first = try await admin.raw(
                "POST", "/v1/customers",
                body: json(
                    #"{"email":" Ada@Example.COM ","phone":"+45 12 34 56 78","customerType":"VIP","loyaltyStatus":"gold"}"#
                ))
            #expect(first.status == 201)
            let created = try JSONDecoder().decode(Customer.self, from: Data(first.body))
            #expect(created.email == "ada@example.com")
            #expect(created.phone == "+4512345678")
            #expect(created.customerType == "VIP")
            #expect(created.loyaltyStatus == "gold")

            let second = try await admin.raw(
                "POST", "/v1/customers", body: json(#"{"email":"ADA@example.com","loyaltyStatus":"platinum"}"#))
            #expect(second.status == 200)
            let updated = try JSONDecoder().decode(Customer.self, from: Data(second.body))
            #expect(updated.id == created.id)
            #expect(updated.loyaltyStatus == "platinum")
            #expect(updated.customerType == "VIP", "fields not given are kept")
            #expect(updated.phone == "+4512345678")

            // Unique by phone too: the phone alone (written differently) finds the same customer.
            let third = try await admin.raw(
                "POST", "/v1/customers", body: json(#"{"phone":"+45 1234-5678","accountManager":"Bo"}"#))
            #expect(third.status == 200)
            let byPhone = try JSONDecoder().decode(Customer.self, from: Data(third.body))
            #expect(byPhone.id == created.id)
            #expect(byPhone.accountManager == "Bo")
            #expect(byPhone.email == "ada@example.com")
        }
    }

    @Test func emailAndPhoneOfTwoCustomersIsAConflict() async throws {
        try await withServices([.crmLookup]) { cluster in
            let crm = cluster.crmLookup()
            let ada = try await crm.upsert(
                CustomerInput(email: "ada@example.com", phone: "+4511111111", customerType: "VIP"))
            let bob = try await crm.upsert(CustomerInput(email: "bob@example.com", phone: "+4522222222"))
            #expect(ada.id != bob.id)
            let error = await #expect(throws: ServiceError.self) {
                try await crm.upsert(
                    CustomerInput(email: "ADA@example.com", phone: "+45 22 22 22 22", customerType: "regular"))
            }
            #expect(error?.status == 409)
            // Nothing changed on either side.
            #expect(try await crm.customer(ada.id) == ada)
            #expect(try await crm.customer(bob.id) == bob)
        }
    }

    @Test func getDeleteThenNotFound() async throws {
        try await withServices([.crmLookup]) { cluster in
            let crm = cluster.crmLookup()
            let ada = try await crm.upsert(
                CustomerInput(
                    email: "ada@example.com", customerType: "VIP", lifetimeValue: 1234.5,
                    attributes: ["region": .string("EU")]))
            let read = try await crm.customer(ada.id)
            #expect(read == ada)
            #expect(read.attributes["region"] == .string("EU"))
            #expect(read.lifetimeValue == 1234.5)
            try await crm.deleteCustomer(ada.id)
            let error = await #expect(throws: ServiceError.self) { try await crm.customer(ada.id) }
            #expect(error?.status == 404)
            let again = await #expect(throws: ServiceError.self) { try await crm.deleteCustomer(ada.id) }
            #expect(again?.status == 404)
            let lookup = try await crm.lookup(email: "ada@example.com")
            #expect(lookup.found == false)
        }
    }

    @Test func lookupByEmailAndPhoneFindsTheRecord() async throws {
        try await withServices([.crmLookup]) { cluster in
            let crm = cluster.crmLookup()
            let ada = try await crm.upsert(
                CustomerInput(
                    email: "ada@example.com", phone: "+4512345678", customerType: "VIP", loyaltyStatus: "gold",
                    accountManager: "Grace"))
            for result in [
                try await crm.lookup(email: " ADA@example.com"),
                try await crm.lookup(phone: "+45 12 34 56 78"),
            ] {
                #expect(result.found)
                #expect(result.source == "directory")
                #expect(result.stale == false)
                let data = try #require(result.data?.objectValue)
                #expect(data["id"] == .string(ada.id))
                #expect(data["customerType"] == .string("VIP"))
                #expect(data["loyaltyStatus"] == .string("gold"))
                #expect(data["accountManager"] == .string("Grace"))
                #expect(data["email"] == .string("ada@example.com"))
            }
            let unknown = try await crm.lookup(email: "nobody@example.com")
            #expect(unknown == LookupResult(found: false, source: "directory", stale: false, data: nil))
            let unknownPhone = try await crm.lookup(phone: "+4599999999")
            #expect(unknownPhone.found == false)
            #expect(unknownPhone.source == "directory")
        }
    }

    @Test(arguments: [
        "/v1/lookup?email=not-an-email",
        "/v1/lookup?email=two@@example.com",
        "/v1/lookup?phone=12345678",
        "/v1/lookup",
        "/v1/lookup?source=directory",
    ])
    func badLookupIs400(path: String) async throws {
        try await withServices([.crmLookup]) { cluster in
            let response = try await cluster.raw(.crmLookup, token: cluster.token(.service)).raw("GET", path)
            #expect(response.status == 400, "\(path) → \(response.status)")
            #expect(response.header("content-type") == "application/problem+json")
        }
    }

    @Test(arguments: [
        #"{"customerType":"VIP"}"#,
        #"{"email":"","phone":""}"#,
        #"{"email":"not-an-email"}"#,
        #"{"phone":"12345"}"#,
        #"{"email":5}"#,
    ])
    func badUpsertIs400(body: String) async throws {
        try await withServices([.crmLookup]) { cluster in
            let response = try await cluster.raw(.crmLookup, token: cluster.token(.administrator))
                .raw("POST", "/v1/customers", body: json(body))
            #expect(response.status == 400, "\(body) → \(response.status)")
        }
    }

    @Test func rolesOnDirectoryAndLookup() async throws {
        try await withServices([.crmLookup]) { cluster in
            _ = try await cluster.crmLookup().upsert(CustomerInput(email: "ada@example.com", customerType: "VIP"))

            let asAgent = await #expect(throws: ServiceError.self) {
                try await cluster.crmLookup(as: .agent).lookup(email: "ada@example.com")
            }
            #expect(asAgent?.status == 403)

            let asService = try await cluster.crmLookup(as: .service).lookup(email: "ada@example.com")
            #expect(asService.found)
            #expect(asService.data?.objectValue?["customerType"] == .string("VIP"))

            let serviceUpsert = await #expect(throws: ServiceError.self) {
                try await cluster.crmLookup(as: .service).upsert(CustomerInput(email: "eve@example.com"))
            }
            #expect(serviceUpsert?.status == 403)
            let managerUpsert = await #expect(throws: ServiceError.self) {
                try await cluster.crmLookup(as: .teamManager).upsert(CustomerInput(email: "eve@example.com"))
            }
            #expect(managerUpsert?.status == 403)

            let noToken = try await cluster.raw(.crmLookup).raw("GET", "/v1/lookup?email=ada%40example.com")
            #expect(noToken.status == 401)
            // The refused upserts wrote nothing.
            #expect(try await cluster.crmLookup().lookup(email: "eve@example.com").found == false)
        }
    }

    // MARK: - Sources: configuration

    @Test func sourceHeadersAreMaskedWhenListed() async throws {
        try await withServices([.crmLookup]) { cluster in
            let secret = "sk_live_supersecret_0123456789"
            let config = SourceConfig(
                urlTemplate: "http://127.0.0.1:9/customers?email={{email}}", headers: ["X-Api-Key": secret],
                timeoutMs: 500,
                cacheTtlSeconds: 60)
            let admin = cluster.raw(.crmLookup, token: cluster.token(.administrator))
            let put = try await admin.raw("PUT", "/v1/sources/acme", body: try JSONCoding.encode(config))
            #expect(put.status == 200 || put.status == 201)
            #expect(!String(decoding: put.body, as: UTF8.self).contains("supersecret"))

            let listed = try await admin.raw("GET", "/v1/sources")
            #expect(listed.status == 200)
            let text = String(decoding: listed.body, as: UTF8.self)
            #expect(!text.contains(secret))
            #expect(!text.contains("supersecret"))
            let page = try JSONDecoder().decode(Page<Source>.self, from: Data(listed.body))
            let source = try #require(page.items.first)
            #expect(page.items.count == 1)
            #expect(source.name == "acme")
            #expect(source.urlTemplate == config.urlTemplate)
            #expect(source.timeoutMs == 500)
            #expect(source.cacheTtlSeconds == 60)
            #expect(source.breaker == "closed")
            let masked = try #require(source.headers["X-Api-Key"])
            #expect(masked != secret)
            #expect(masked.count < 12)

            let asAgent = try await cluster.raw(.crmLookup, token: cluster.token(.agent)).raw("GET", "/v1/sources")
            #expect(asAgent.status == 403)
            // Services make all reads (SPEC §2), still masked; changing sources stays the administrators'.
            let service = cluster.raw(.crmLookup, token: cluster.token(.service))
            let read = try await service.raw("GET", "/v1/sources/\(source.name)")
            #expect(read.status == 200)
            #expect(!String(decoding: read.body, as: UTF8.self).contains(secret))
            #expect(try await service.raw("GET", "/v1/sources").status == 200)
            #expect(try await service.raw("DELETE", "/v1/sources/\(source.name)").status == 403)
        }
    }

    @Test(arguments: [
        "https:///customers?email={{email}}",
        "ftp://127.0.0.1/customers/{{email}}",
        "http://127.0.0.1:9/customers?email=fixed",
        "not a url {{email}}",
    ])
    func badURLTemplateIs422(template: String) async throws {
        try await withServices([.crmLookup]) { cluster in
            let response = try await cluster.raw(.crmLookup, token: cluster.token(.administrator))
                .raw("PUT", "/v1/sources/acme", body: try JSONCoding.encode(SourceConfig(urlTemplate: template)))
            #expect(response.status == 422, "\(template) → \(response.status)")
            let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
            #expect(problem.errors?.first?.field == "urlTemplate")
            #expect(try await cluster.crmLookup().sources().items.isEmpty)
        }
    }

    @Test(arguments: ["Host", "host", "Content-Length", "Transfer-Encoding", "CONNECTION"])
    func aHeaderTheHTTPClientSetsIsRefused(header: String) async throws {
        try await withServices([.crmLookup]) { cluster in
            let admin = cluster.raw(.crmLookup, token: cluster.token(.administrator))
            let template = "http://127.0.0.1:9/customers?email={{email}}"
            let kept = SourceConfig(urlTemplate: template, headers: ["X-Api-Key": "key-0123456789"])
            #expect(try await admin.raw("PUT", "/v1/sources/kept", body: try JSONCoding.encode(kept)).status == 200)
            let refused = SourceConfig(
                urlTemplate: template, headers: ["X-Api-Key": "key-9876543210", header: "crm.example"])
            for name in ["acme", "kept"] {
                let response = try await admin.raw("PUT", "/v1/sources/\(name)", body: try JSONCoding.encode(refused))
                #expect(
                    response.status == 422, "\(header) on \(name): \(String(decoding: response.body, as: UTF8.self))")
                #expect(response.header("content-type") == "application/problem+json")
                let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
                #expect(problem.errors?.first?.field == "headers.\(header)")
                #expect(problem.errors?.first?.message.contains(header) == true)
            }
            // Nothing changed: no acme, and kept keeps its one header.
            let sources = try await cluster.crmLookup().sources().items
            #expect(sources.map(\.name) == ["kept"])
            #expect(sources.first?.headers.keys.sorted() == ["X-Api-Key"])
        }
    }

    @Test func aSourceSavedWithAHostHeaderBeforeItWasRefusedSendsOneHost() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                _ = try await cluster.crmLookup().putSource(
                    "acme", SourceConfig(urlTemplate: fake.template, headers: ["X-Api-Key": "key-0123456789"]))
                let service = try cluster.service(.crmLookup)
                await service.stop()
                do {
                    let connection = try Connection(
                        path: service.databasePath, readOnly: false, busyTimeoutMilliseconds: 2000)
                    let headers = #"{"Host": "crm.example", "Connection": "close", "X-Api-Key": "key-0123456789"}"#
                    try connection.run(
                        "UPDATE sources SET headers = ? WHERE name = 'acme'", SQLValue.blob(Array(headers.utf8)))
                }
                try await service.start()
                let answer = try await cluster.crmLookup(as: .service).lookup(
                    email: "ada@example.com", phone: nil, source: "acme")
                #expect(answer.found)
                #expect(fake.hosts == [["127.0.0.1:\(fake.port)"]])
                #expect(fake.apiKeys == ["key-0123456789"])
            }
        }
    }

    // MARK: - Sources: lookups against a fake CRM

    @Test func freshAnswerIsCachedAndValuesArePercentEncoded() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource(
                    "acme",
                    SourceConfig(
                        urlTemplate: fake.template, headers: ["X-Api-Key": "key-0123456789"], timeoutMs: 2000,
                        cacheTtlSeconds: 300))
                let fresh = try await crm.lookup(email: "Ada+CRM@Example.com", source: "acme")
                #expect(fresh.found)
                #expect(fresh.source == "acme")
                #expect(fresh.stale == false)
                #expect(fresh.data == FakeCRM.record("gold"))
                #expect(fake.hits == 1)
                #expect(fake.targets == ["/customers?email=ada%2Bcrm%40example.com"])
                #expect(fake.apiKeys == ["key-0123456789"], "the real header value is sent to the CRM")

                // Within the TTL: served from the cache, the CRM is not asked again.
                fake.mode = .answer(FakeCRM.record("platinum"))
                let cached = try await crm.lookup(email: "ada+crm@example.com", source: "acme")
                #expect(cached == fresh)
                #expect(fake.hits == 1)

                // Another key is a miss of its own.
                let other = try await crm.lookup(email: "bob@example.com", source: "acme")
                #expect(other.data == FakeCRM.record("platinum"))
                #expect(fake.hits == 2)
                #expect(fake.targets.last == "/customers?email=bob%40example.com")
            }
        }
    }

    @Test func phonePlaceholderIsPercentEncoded() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.url("/customers?phone={{phone}}")))
                let result = try await crm.lookup(phone: "+45 12 34 56 78", source: "acme")
                #expect(result.found)
                #expect(fake.targets == ["/customers?phone=%2B4512345678"])
            }
        }
    }

    @Test func cachedAnswerSurvivesARestart() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template, cacheTtlSeconds: 300))
                let fresh = try await crm.lookup(email: "ada@example.com", source: "acme")
                try await cluster.service(.crmLookup).restart()
                let cached = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(cached == fresh)
                #expect(fake.hits == 1, "the cache lives in SQLite, not in memory")
            }
        }
    }

    @Test func requestIDIsSentToTheCRM() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                _ = try await cluster.crmLookup().putSource("acme", SourceConfig(urlTemplate: fake.template))
                let response = try await cluster.raw(.crmLookup, token: cluster.token(.service)).raw(
                    "GET", "/v1/lookup?email=ada%40example.com&source=acme", headers: [("X-Request-ID", "req-crm-42")])
                #expect(response.status == 200)
                #expect(response.header("x-request-id") == "req-crm-42")
                #expect(fake.requestIDs == ["req-crm-42"])
            }
        }
    }

    @Test func nonJSONAnswerIsAFailure() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template))
                fake.mode = .notJSON
                let error = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(email: "ada@example.com", source: "acme")
                }
                #expect(error?.status == 502)
                #expect(fake.hits == 1)
            }
        }
    }

    @Test func expiredCacheAsksTheSourceAgain() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template, cacheTtlSeconds: 1))
                let start = ContinuousClock.now
                let first = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(first.data == FakeCRM.record("gold"))
                #expect(fake.hits == 1)
                fake.mode = .answer(FakeCRM.record("platinum"))
                // Poll until the refreshed answer shows; polls inside the TTL must not reach the CRM.
                var latest = first
                let deadline = ContinuousClock.now + .seconds(5)
                while latest.data != FakeCRM.record("platinum") && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    latest = try await crm.lookup(email: "ada@example.com", source: "acme")
                }
                #expect(latest.data == FakeCRM.record("platinum"))
                #expect(latest.stale == false)
                #expect(fake.hits == 2)
                #expect(ContinuousClock.now - start >= .milliseconds(900), "refreshed only after the 1 s TTL")
            }
        }
    }

    @Test func failingSourceServesStaleCacheElse502() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template, cacheTtlSeconds: 1))
                let fresh = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(fresh.found && !fresh.stale)
                try await Task.sleep(for: .milliseconds(1100))  // the behaviour under test: let the 1 s TTL expire
                fake.mode = .failure
                let stale = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(fake.hits == 2, "the expired entry made the service ask the CRM")
                #expect(stale.found)
                #expect(stale.stale)
                #expect(stale.source == "acme")
                #expect(stale.data == fresh.data)

                let error = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(email: "bob@example.com", source: "acme")
                }
                #expect(error?.status == 502)
                #expect(fake.hits == 3)
            }
        }
    }

    @Test func sourceTimeoutIsHonoured() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource(
                    "acme", SourceConfig(urlTemplate: fake.template, timeoutMs: 300, cacheTtlSeconds: 1))
                fake.mode = .hang
                let clock = ContinuousClock()
                var outcome: ServiceError?
                let elapsed = await clock.measure {
                    do { _ = try await crm.lookup(email: "ada@example.com", source: "acme") } catch {
                        outcome = error as? ServiceError
                    }
                }
                #expect(outcome?.status == 502, "nothing cached: \(String(describing: outcome))")
                // Measured: 0.31 s run alone, 0.73 s with the whole suite on a loaded 2-core machine.
                #expect(elapsed < .milliseconds(1500), "timeoutMs 300; the lookup answered after \(elapsed)")
                #expect(elapsed >= .milliseconds(250), "the CRM hung, so the answer waited for the timeout: \(elapsed)")
                #expect(fake.hits == 1)

                // With a cached answer, a hanging CRM yields the stale answer just as fast.
                fake.mode = .answer(FakeCRM.record("gold"))
                let fresh = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(fresh.found && !fresh.stale)
                try await Task.sleep(for: .milliseconds(1100))  // let the 1 s TTL expire
                fake.mode = .hang
                var stale: LookupResult?
                let staleElapsed = try await clock.measure {
                    stale = try await crm.lookup(email: "ada@example.com", source: "acme")
                }
                #expect(stale?.stale == true)
                #expect(stale?.data == fresh.data)
                #expect(
                    staleElapsed < .milliseconds(1500), "timeoutMs 300; the stale answer came after \(staleElapsed)")
                #expect(fake.hits == 3)
            }
        }
    }

    @Test func breakerOpensAfterFiveFailuresInARow() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template, timeoutMs: 1000))
                fake.mode = .failure
                for attempt in 1...5 {
                    let error = await #expect(throws: ServiceError.self) {
                        try await crm.lookup(email: "ada@example.com", source: "acme")
                    }
                    #expect(error?.status == 502, "attempt \(attempt)")
                }
                #expect(fake.hits == 5)
                #expect(try await crm.sources().items.first?.breaker == "open")

                fake.mode = .answer(FakeCRM.record("gold"))
                let start = ContinuousClock.now
                let skipped = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(email: "ada@example.com", source: "acme")
                }
                #expect(skipped?.status == 503)
                #expect(fake.hits == 5, "an open breaker does not call the CRM")
                #expect(ContinuousClock.now - start < .milliseconds(1000))
                let other = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(phone: "+4512345678", source: "acme")
                }
                #expect(other?.status == 503)
                #expect(fake.hits == 5)
                #expect(try await crm.sources().items.first?.breaker == "open")
            }
        }
    }

    @Test func openBreakerServesTheCachedAnswerAsStale() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template, cacheTtlSeconds: 1))
                let fresh = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(fake.hits == 1)
                try await Task.sleep(for: .milliseconds(1100))  // let the 1 s TTL expire
                fake.mode = .failure
                for _ in 1...5 {
                    let result = try await crm.lookup(email: "ada@example.com", source: "acme")
                    #expect(result.stale && result.data == fresh.data)
                }
                #expect(fake.hits == 6)
                let sixth = try await crm.lookup(email: "ada@example.com", source: "acme")
                #expect(sixth.stale)
                #expect(sixth.data == fresh.data)
                #expect(fake.hits == 6, "an open breaker does not call the CRM")
                #expect(try await crm.sources().items.first?.breaker == "open")
            }
        }
    }

    @Test func notFoundAtTheCRMIsFoundFalse() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template))
                fake.mode = .notFound
                let result = try await crm.lookup(email: "ghost@example.com", source: "acme")
                #expect(result.found == false)
                #expect(result.source == "acme")
                #expect(result.stale == false)
                #expect(result.data == nil)
                #expect(fake.hits == 1)
                // A 404 is an answer, not a failure: it never opens the breaker.
                for _ in 1...5 {
                    _ = try await crm.lookup(email: "ghost\(UUID().uuidString.prefix(6))@example.com", source: "acme")
                }
                #expect(try await crm.sources().items.first?.breaker == "closed")
            }
        }
    }

    @Test func deletedOrUnknownSourceIs404() async throws {
        try await withServices([.crmLookup]) { cluster in
            try await withFakeCRM { fake in
                let crm = cluster.crmLookup()
                _ = try await crm.putSource("acme", SourceConfig(urlTemplate: fake.template))
                #expect(try await crm.lookup(email: "ada@example.com", source: "acme").found)
                try await crm.deleteSource("acme")
                #expect(try await crm.sources().items.isEmpty)
                let error = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(email: "ada@example.com", source: "acme")
                }
                #expect(error?.status == 404)
                let unknown = await #expect(throws: ServiceError.self) {
                    try await crm.lookup(email: "ada@example.com", source: "nope")
                }
                #expect(unknown?.status == 404)
                let again = await #expect(throws: ServiceError.self) { try await crm.deleteSource("acme") }
                #expect(again?.status == 404)
                #expect(fake.hits == 1)
            }
        }
    }

    // MARK: - Import

    @Test func ndjsonImportCountsAndNamesBadLinesThenUpdatesOnReimport() async throws {
        try await withServices([.crmLookup]) { cluster in
            let bad: [Int: String] = [
                17: #"{"email":"broken@example.com","#,
                250: #"{"email":"not-an-email","customerType":"VIP"}"#,
                500: #"{"email":"c500@example.com","lifetimeValue":"lots"}"#,
                // c1's email with c2's phone: two different customers, refused alone.
                700: #"{"email":"c1@example.com","phone":"+4530000002","customerType":"VIP"}"#,
                999: #"{"email":5}"#,
            ]
            var lines: [String] = []
            for line in 1...1000 {
                lines.append(
                    bad[line]
                        ?? #"{"email":"C\#(line)@Example.com","phone":"+45 30 \#(String(format: "%06d", line))","customerType":"\#(line % 10 == 0 ? "VIP" : "regular")","loyaltyStatus":"gold","lifetimeValue":\#(line).5}"#
                )
            }
            let body = Array((lines.joined(separator: "\n") + "\n").utf8)
            let crm = cluster.crmLookup()
            let result = try await crm.importCustomers(body, contentType: "application/x-ndjson")
            #expect(result.imported == 995)
            #expect(result.updated == 0)
            // Sorted here; the order itself is onlyTheFirstHundredRejectionsAreListedInLineOrder's concern.
            #expect(result.rejected.map(\.line).sorted() == [17, 250, 500, 700, 999])
            #expect(result.rejectedCount == 5)
            #expect(result.rejected.allSatisfy { !$0.error.isEmpty })

            let tenth = try await crm.lookup(email: "c10@example.com")
            #expect(tenth.data?.objectValue?["customerType"] == .string("VIP"))
            #expect(tenth.data?.objectValue?["phone"] == .string("+4530000010"))
            #expect(tenth.data?.objectValue?["lifetimeValue"] == .number(10.5))
            #expect(try await crm.lookup(phone: "+4530001000").found)
            #expect(try await crm.lookup(email: "c500@example.com").found == false)

            let again = try await crm.importCustomers(body, contentType: "application/x-ndjson; charset=utf-8")
            #expect(again.imported == 0)
            #expect(again.updated == 995)
            #expect(again.rejected.map(\.line).sorted() == [17, 250, 500, 700, 999])
            #expect(
                try await crm.lookup(email: "c1@example.com").data?.objectValue?["customerType"] == .string("regular"))
        }
    }

    @Test func csvImportHandlesQuotingBOMAndCRLF() async throws {
        try await withServices([.crmLookup]) { cluster in
            let rows = [
                "email,phone,customerType,loyaltyStatus,accountManager,lifetimeValue,region,note",
                #"ada@example.com,+45 11 11 11 11,VIP,gold,"Smith, Jane",1200.5,EU,"She said ""hi""""#,
                "bob@example.com,,regular,none,,,\"US\",\"line one\nline two\"",
                "carl@example.com,,regular,silver,,lots,EU,x",
                "Dora@Example.com,+4622222222,VIP,platinum,Bo,10,,",
                "eve@example.com,only,three",
                "frank@example.com,,regular,none,,7,,\"a,b\"",
            ]
            let body = [0xEF, 0xBB, 0xBF] + Array(rows.joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
            let crm = cluster.crmLookup()
            let result = try await crm.importCustomers(body, contentType: "text/csv")
            #expect(result.imported == 4)
            #expect(result.updated == 0)
            // Bob's record spans lines 3 and 4, so carl is on line 5 and eve on line 7.
            #expect(result.rejected.map(\.line) == [5, 7])
            #expect(result.rejected.first?.error.contains("lifetimeValue") == true)

            let ada = try #require(try await crm.lookup(email: "ada@example.com").data?.objectValue)
            #expect(ada["phone"] == .string("+4511111111"))
            #expect(ada["customerType"] == .string("VIP"))
            #expect(ada["accountManager"] == .string("Smith, Jane"))
            #expect(ada["lifetimeValue"] == .number(1200.5))
            #expect(ada["attributes"] == .object(["region": .string("EU"), "note": .string(#"She said "hi""#)]))

            let bob = try #require(try await crm.lookup(email: "bob@example.com").data?.objectValue)
            #expect(bob["attributes"]?.objectValue?["note"] == .string("line one\nline two"))
            #expect(bob["attributes"]?.objectValue?["region"] == .string("US"))
            #expect(bob["customerType"] == .string("regular"))

            let dora = try #require(try await crm.lookup(phone: "+46 22 22 22 22").data?.objectValue)
            #expect(dora["email"] == .string("dora@example.com"))
            #expect(dora["loyaltyStatus"] == .string("platinum"))
            #expect(dora["lifetimeValue"] == .number(10))

            let frank = try #require(try await crm.lookup(email: "frank@example.com").data?.objectValue)
            #expect(frank["attributes"]?.objectValue?["note"] == .string("a,b"))
            #expect(try await crm.lookup(email: "carl@example.com").found == false)
        }
    }

    @Test(arguments: [
        ("", "application/x-ndjson"),
        ("", "text/csv"),
        ("\n\n", "application/x-ndjson"),
        ("email,phone,customerType,loyaltyStatus,accountManager,lifetimeValue\r\n", "text/csv"),
        ("email,phone,customerType,loyaltyStatus,accountManager,lifetimeValue", "text/csv"),
    ])
    func emptyImportCountsNothing(body: String, contentType: String) async throws {
        try await withServices([.crmLookup]) { cluster in
            let result = try await cluster.crmLookup().importCustomers(Array(body.utf8), contentType: contentType)
            #expect(result == ImportResult(imported: 0, updated: 0, rejected: [], rejectedCount: 0))
        }
    }

    @Test func lineOverOneMebibyteIsRejectedAndTheRestImported() async throws {
        try await withServices([.crmLookup]) { cluster in
            let huge = String(repeating: "x", count: (1 << 20) + 4096)
            let ndjson = [
                #"{"email":"one@example.com"}"#,
                #"{"email":"big@example.com","attributes":{"blob":"\#(huge)"}}"#,
                #"{"email":"three@example.com"}"#,
                #"{"email":"four@example.com","customerType":"VIP"}"#,
            ].joined(separator: "\n")
            let crm = cluster.crmLookup()
            let result = try await crm.importCustomers(Array(ndjson.utf8), contentType: "application/x-ndjson")
            #expect(result.imported == 3)
            #expect(result.rejected.map(\.line) == [2])
            #expect(try await crm.lookup(email: "big@example.com").found == false)
            #expect(
                try await crm.lookup(email: "four@example.com").data?.objectValue?["customerType"] == .string("VIP"))

            let csv = [
                "email,customerType,note",
                "five@example.com,regular,ok",
                "six@example.com,regular,\"\(huge)\"",
                "seven@example.com,VIP,ok",
            ].joined(separator: "\n")
            let csvResult = try await crm.importCustomers(Array(csv.utf8), contentType: "text/csv")
            #expect(csvResult.imported == 2)
            #expect(csvResult.rejected.map(\.line) == [3])
            #expect(
                try await crm.lookup(email: "seven@example.com").data?.objectValue?["customerType"] == .string("VIP"))
            #expect(try await crm.lookup(email: "six@example.com").found == false)
        }
    }

    @Test func onlyTheFirstHundredRejectionsAreListedButAllAreCounted() async throws {
        try await withServices([.crmLookup]) { cluster in
            var lines: [String] = []
            for line in 1...300 {
                lines.append(line % 2 == 0 ? #"{"email":"ok\#(line)@example.com"}"# : #"{"email":"bad-\#(line)"}"#)
            }
            let result = try await cluster.crmLookup().importCustomers(
                Array(lines.joined(separator: "\n").utf8), contentType: "application/x-ndjson")
            #expect(result.imported == 150)
            #expect(result.rejectedCount == 150)
            #expect(result.rejected.count == 100)
            #expect(result.rejected.map(\.line) == Array(stride(from: 1, through: 199, by: 2)))
        }
    }

    /// A row refused when its batch is written (an identity clash) is still listed by its line, so
    /// "the first 100 rejections" are the first 100 by line, not those whose error was found first.
    @Test func onlyTheFirstHundredRejectionsAreListedInLineOrder() async throws {
        try await withServices([.crmLookup]) { cluster in
            var lines = [
                #"{"email":"a@example.com","phone":"+4511111111"}"#,
                #"{"email":"b@example.com","phone":"+4522222222"}"#,
                #"{"email":"a@example.com","phone":"+4522222222"}"#,  // line 3: a's email, b's phone
            ]
            for line in 4...203 { lines.append(#"{"email":"bad-\#(line)"}"#) }
            let result = try await cluster.crmLookup().importCustomers(
                Array(lines.joined(separator: "\n").utf8), contentType: "application/x-ndjson")
            #expect(result.imported == 2)
            #expect(result.rejectedCount == 201)
            #expect(result.rejected.count == 100)
            #expect(result.rejected.first?.line == 3, "the clash on line 3 is among the first 100 rejections")
            #expect(result.rejected.map(\.line) == Array(3...102))
        }
    }

    /// Into a directory that is not empty, an import's batches share transactions, which commit early
    /// when another writer waits: upserts sent during an import are applied, lookups answer, and the
    /// import still counts every row.
    @Test func upsertsAndLookupsDuringAnImportAreServed() async throws {
        try await withServices([.crmLookup]) { cluster in
            _ = try await cluster.crmLookup().upsert(CustomerInput(email: "first@example.com"))
            let count = 20_000
            var lines: [String] = []
            for line in 1...count {
                // Shuffled, like a real CRM export, so the import is long enough to overlap the upserts.
                let n = (line * 7_919) % count
                lines.append(#"{"email":"bulk\#(n)@example.com","phone":"+4540\#(String(format: "%06d", n))"}"#)
            }
            let crm = cluster.crmLookup()
            let body = Array(lines.joined(separator: "\n").utf8)
            async let imported = crm.importCustomers(body, contentType: "application/x-ndjson")
            var upserted: [String] = []
            for index in 0..<20 {
                let input = CustomerInput(email: "single\(index)@example.com", customerType: "VIP")
                upserted.append(try await crm.upsert(input).id)
                _ = try await crm.lookup(email: "bulk\(index)@example.com")
            }
            let result = try await imported
            #expect(result.imported == count)
            #expect(result.updated == 0)
            #expect(result.rejectedCount == 0)
            #expect(Set(upserted).count == 20)
            for index in [0, 1, 19] {
                let found = try await crm.lookup(email: "single\(index)@example.com")
                #expect(found.data?.objectValue?["customerType"] == .string("VIP"))
            }
            for n in [0, 1, count / 2, count - 1] {
                let found = try await crm.lookup(email: "bulk\(n)@example.com")
                #expect(found.data?.objectValue?["phone"] == .string("+4540\(String(format: "%06d", n))"), "\(n)")
            }
        }
    }

    /// Into an empty directory the import loads without the e-mail and phone indexes and applies rows
    /// that repeat an earlier key after building them, in line order — past the held-back limit too,
    /// where the rest goes the ordinary way. The outcome is the row-by-row one: later lines update
    /// earlier customers, a clash is refused, and the indexes hold afterwards. An upsert sent meanwhile
    /// (which waits for the load) is applied.
    @Test func importIntoAnEmptyDirectoryMatchesRowByRow() async throws {
        try await withServices([.crmLookup]) { cluster in
            let count = 12_000  // more repeats than ImportWriter.heldBackLimit (10,000)
            var lines: [String] = []
            for n in 0..<count {
                lines.append(#"{"email":"bulk\#(n)@example.com","phone":"+4550\#(String(format: "%06d", n))"}"#)
            }
            // The same customers again by e-mail only: updates, each on its own earlier line.
            for n in 0..<count {
                lines.append(#"{"email":"BULK\#(n)@example.com","customerType":"VIP","loyaltyStatus":"gold"}"#)
            }
            // By phone only, with a new e-mail: the customer found by phone takes it.
            lines.append(#"{"phone":"+45 50 000 007","email":"renamed7@example.com"}"#)
            // bulk1's e-mail with bulk2's phone: two customers, refused.
            lines.append(#"{"email":"bulk1@example.com","phone":"+4550000002"}"#)
            lines.append(#"{"email":"fresh@example.com","phone":"+4559999999"}"#)
            let crm = cluster.crmLookup()
            async let imported = crm.importCustomers(
                Array(lines.joined(separator: "\n").utf8), contentType: "application/x-ndjson")
            // Not in the file, so the counts below hold even if it lands before the import begins.
            try await Task.sleep(for: .milliseconds(200))
            let single = try await crm.upsert(CustomerInput(email: "outside@example.com", accountManager: "Sam"))
            let result = try await imported
            #expect(result.imported == count + 1)
            #expect(result.updated == count + 1)
            #expect(result.rejected.map(\.line) == [2 * count + 2])
            #expect(result.rejectedCount == 1)

            for n in [0, 1, 5_000, count - 1] {
                let found = try #require(try await crm.lookup(email: "bulk\(n)@example.com").data?.objectValue, "\(n)")
                #expect(found["customerType"] == .string("VIP"), "\(n)")
                #expect(found["phone"] == .string("+4550\(String(format: "%06d", n))"), "\(n)")
            }
            let renamed = try #require(try await crm.lookup(phone: "+4550000007").data?.objectValue)
            #expect(renamed["email"] == .string("renamed7@example.com"))
            #expect(renamed["customerType"] == .string("VIP"))
            #expect(try await crm.lookup(email: "bulk7@example.com").found == false)
            #expect(try await crm.lookup(email: "fresh@example.com").found)

            let outside = try #require(try await crm.lookup(email: "outside@example.com").data?.objectValue)
            #expect(outside["id"] == .string(single.id))
            #expect(outside["accountManager"] == .string("Sam"))
            // The indexes are back: a second owner of an e-mail or a phone is refused.
            let clash = await #expect(throws: ServiceError.self) {
                try await crm.upsert(CustomerInput(email: "bulk10@example.com", phone: "+4550000011"))
            }
            #expect(clash?.status == 409)
            let again = try await crm.upsert(CustomerInput(phone: "+4550000012", customerType: "regular"))
            #expect(again.email == "bulk12@example.com")
        }
    }

    @Test func importRefusesOtherContentTypesAndNonAdministrators() async throws {
        try await withServices([.crmLookup]) { cluster in
            let body = Array(#"{"email":"ada@example.com"}"#.utf8)
            let wrongType = await #expect(throws: ServiceError.self) {
                try await cluster.crmLookup().importCustomers(body, contentType: "application/json")
            }
            #expect(wrongType?.status == 415)
            for role in [Role.agent, .teamManager, .service] {
                let refused = await #expect(throws: ServiceError.self) {
                    try await cluster.crmLookup(as: role).importCustomers(body, contentType: "application/x-ndjson")
                }
                #expect(refused?.status == 403, "\(role)")
            }
            let lookup = try await cluster.crmLookup().lookup(email: "ada@example.com")
            #expect(lookup.found == false, "nothing was imported")
        }
    }
    // Chunked uploads are not covered here: `HTTPClient` always frames a body with Content-Length
    // (a caller-supplied Transfer-Encoding header would be sent alongside it and rightly refused),
    // so it cannot send a chunked body; NetworkTests covers the server's chunked parsing.
}

// MARK: - Helpers

private func json(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A fake external CRM on loopback, served by our own `HTTPServer`: it counts hits, records the
/// request targets and API keys it received, and answers as `mode` says.
final class FakeCRM: Sendable {
    enum Mode: Sendable {
        /// 200 with this JSON body.
        case answer(JSONValue)
        case notFound
        /// 500.
        case failure
        /// 200 with an HTML body.
        case notJSON
        /// Holds the request until the mode changes (or 10 s pass): longer than any source timeout here.
        case hang
    }

    private struct State {
        var mode = Mode.answer(FakeCRM.record("gold"))
        var hits = 0
        var targets: [String] = []
        var apiKeys: [String] = []
        var requestIDs: [String] = []
        /// Every `Host` header of each request, in order.
        var hosts: [[String]] = []
        var port = 0
    }

    private let state = Mutex(State())

    static func record(_ loyalty: String) -> JSONValue {
        .object(["customerType": .string("VIP"), "loyaltyStatus": .string(loyalty), "crmId": .string("C-42")])
    }

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }
    var hits: Int { state.withLock { $0.hits } }
    var targets: [String] { state.withLock { $0.targets } }
    var apiKeys: [String] { state.withLock { $0.apiKeys } }
    var requestIDs: [String] { state.withLock { $0.requestIDs } }
    var hosts: [[String]] { state.withLock { $0.hosts } }
    var port: Int {
        get { state.withLock { $0.port } }
        set { state.withLock { $0.port = newValue } }
    }

    func url(_ pathAndQuery: String) -> String { "http://127.0.0.1:\(port)\(pathAndQuery)" }
    var template: String { url("/customers?email={{email}}") }

    var isHanging: Bool {
        if case .hang = mode { return true }
        return false
    }

    func router() -> Router {
        let router = Router()
        router.get("/customers", access: .open) { request, _ in
            let mode = self.state.withLock { state in
                state.hits += 1
                state.targets.append(String(request.head.target))
                if let key = request.header("x-api-key") { state.apiKeys.append(key) }
                if let id = request.header("x-request-id") { state.requestIDs.append(id) }
                state.hosts.append(request.head.headers.filter { $0.name.lowercased() == "host" }.map(\.value))
                return state.mode
            }
            switch mode {
            case .answer(let value): return try .json(value)
            case .notFound: return .problem(Problem(status: 404, title: "Not found", detail: "No such customer."))
            case .failure: return .problem(Problem(status: 500, title: "Boom", detail: "The CRM is broken."))
            case .notJSON: return .text("<html>maintenance</html>", contentType: "text/html")
            case .hang:
                let deadline = ContinuousClock.now + .seconds(10)
                while self.isHanging && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
                return try .json(FakeCRM.record("late"))
            }
        }
        return router
    }
}

/// Runs a `FakeCRM` for the duration of `body`; always shuts it down and waits for it.
func withFakeCRM<T: Sendable>(_ body: (FakeCRM) async throws -> T) async throws -> T {
    let fake = FakeCRM()
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
    configuration.shutdownGraceSeconds = 2
    let server = HTTPServer(
        configuration, router: fake.router(), logger: Logger(service: "fake-crm", level: .error, sink: MemorySink()),
        signer: nil)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            fake.port = try await server.waitUntilListening()
            let result = try await body(fake)
            fake.mode = .failure  // releases any request still hanging
            server.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            fake.mode = .failure
            server.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}
