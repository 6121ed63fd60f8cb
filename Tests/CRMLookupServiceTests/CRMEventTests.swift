import ConciergeCore
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Storage
import Testing

@testable import CRMLookupService

/// The CRM-lookup service's events, through its real routes in-process (`CRMFixture`): an import that
/// changed the directory, and each opening and closing of a source's breaker, told once each, with
/// the source as its `GET` shows it.
@Suite struct CRMEventTests {
    @Test func anImportIsToldOnceWithTheCountsItAnswers() async throws {
        try await CRMFixture.with { service in
            let head = try service.head()
            let ndjson = """
                {"email":"a@example.com","customerType":"VIP","loyaltyStatus":"gold"}
                {"email":"b@example.com","customerType":"regular","loyaltyStatus":"none"}
                not json
                {"phone":"+4511111111","customerType":"regular","loyaltyStatus":"none"}
                """
            let first = try await service.send(
                "POST", "/v1/customers/import", ndjson, contentType: "application/x-ndjson")
            #expect(first.status == 200)
            let again = try await service.send(
                "POST", "/v1/customers/import", "email,customerType,loyaltyStatus\na@example.com,VIP,platinum\n",
                contentType: "text/csv")
            #expect(again.status == 200)

            let events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["customers.imported", "customers.imported"])
            for (event, answer) in zip(events, [first, again]) {
                let counts = try JSONParser.parse(answer.body).objectValue?.filter { $0.key != "rejected" }
                #expect(try JSONParser.parse(event.data).objectValue == counts, "the answer's counts, no more")
                #expect(event.audience == nil)
            }
            #expect(
                try JSONParser.parse(events[0].data)
                    == .object(["imported": .number(3), "updated": .number(0), "rejectedCount": .number(1)]))
            #expect(
                try JSONParser.parse(events[1].data)
                    == .object(["imported": .number(0), "updated": .number(1), "rejectedCount": .number(0)]))
        }
    }

    @Test func anImportThatChangesNothingOrIsRefusedIsNotTold() async throws {
        try await CRMFixture.with { service in
            let head = try service.head()
            let attempts: [(body: String, contentType: String, status: Int)] = [
                ("not json\n{\"customerType\":\"VIP\"}\n", "application/x-ndjson", 200),  // every line rejected
                ("", "application/x-ndjson", 200),
                ("name,customerType\nAda,VIP\n", "text/csv", 422),  // neither email nor phone
                (#"{"email":"a@example.com"}"#, "application/json", 415),
            ]
            for attempt in attempts {
                let response = try await service.send(
                    "POST", "/v1/customers/import", attempt.body, contentType: attempt.contentType)
                #expect(response.status == attempt.status, "\(attempt.contentType): \(attempt.body)")
            }
            #expect(try await service.send("POST", "/v1/customers/import", "", as: .teamManager).status == 403)
            #expect(try service.recorded(after: head).isEmpty)
        }
    }

    /// Five failures in a row open the breaker: told once, with the source masked as reads mask it,
    /// the failure count, how the last call failed and until when the source is skipped. A failed trial
    /// keeps it open (nothing new to tell); the trial that succeeds closes it, told once.
    @Test func aBreakerOpeningAndClosingAreToldOnceEach() async throws {
        try await CRMFixture.with { service in
            let head = try service.head()
            service.crm.status = 500
            for _ in 1...4 { #expect(try await service.lookup() == 502) }
            #expect(try service.recorded(after: head).isEmpty, "four failures open nothing")
            let openedAt = service.time.now
            #expect(try await service.lookup() == 502)
            var events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["source.breaker_opened"])
            let opened = try #require(try events.first.flatMap { try JSONParser.parse($0.data).objectValue })
            #expect(opened["failures"] == .number(5))
            #expect(opened["lastError"] == .string("malformed response: HTTP 500"))
            #expect(opened["openUntil"] == .string(Timestamp.format(openedAt.addingTimeInterval(30))))
            #expect(opened["breaker"] == .string("open"))
            #expect(opened["headers"] == .object(["X-Api-Key": .string("sk••••••")]), "the key masked")
            let read = try await service.send("GET", "/v1/sources/crm")
            #expect(
                JSONValue.object(opened.filter { !["failures", "lastError", "openUntil"].contains($0.key) })
                    == (try JSONParser.parse(read.body)), "the source as its GET shows it")

            // Skipped while open, then a trial that fails: still open, nothing new to tell.
            #expect(try await service.lookup() == 503)
            service.time.advance(by: 31)
            #expect(try await service.lookup() == 502)
            #expect(try await service.lookup() == 503)
            #expect(try service.recorded(after: head).count == 1)

            service.crm.status = 200
            service.time.advance(by: 31)
            #expect(try await service.lookup() == 200)
            #expect(try await service.lookup() == 200)
            events = try service.recorded(after: head)
            #expect(events.map(\.type) == ["source.breaker_opened", "source.breaker_closed"])
            var closed = try #require(try events.last.flatMap { try JSONParser.parse($0.data).objectValue })
            #expect(closed.removeValue(forKey: "closedBy") == .string("success"))
            #expect(
                JSONValue.object(closed)
                    == (try JSONParser.parse(try await service.send("GET", "/v1/sources/crm").body)))
            #expect(closed["breaker"] == .string("closed"))
        }
    }

    /// Saving a source again or deleting it closes an open breaker: told, in the same transaction, with
    /// what closed it. With the breaker closed, neither tells anything about it.
    @Test func savingOrDeletingASourceClosesItsOpenBreakerAndSaysSo() async throws {
        try await CRMFixture.with { service in
            let head = try service.head()
            #expect(try await service.saveSource() == 200)
            service.crm.status = 500
            for _ in 1...5 { _ = try await service.lookup() }
            #expect(try await service.saveSource() == 200)
            #expect(try await service.lookup() == 502, "closed: the CRM is asked again")
            for _ in 1...4 { _ = try await service.lookup() }
            #expect(try await service.send("DELETE", "/v1/sources/crm").status == 204)
            #expect(try await service.send("DELETE", "/v1/sources/crm").status == 404)

            let events = try service.recorded(after: head)
            #expect(
                events.map(\.type) == [
                    "source.breaker_opened", "source.breaker_closed", "source.breaker_opened", "source.breaker_closed",
                ])
            let closings = try events.map { try JSONParser.parse($0.data).objectValue?["closedBy"] }
            #expect(closings == [nil, .string("update"), nil, .string("deletion")])
            let deleted = try #require(try events.last.flatMap { try JSONParser.parse($0.data).objectValue })
            #expect(deleted["name"] == .string("crm"))
            #expect(deleted["breaker"] == .string("closed"))
        }
    }

    /// The breaker must hear a trial's outcome even when its event cannot be written (a storage
    /// failure, made by a trigger): the lookup fails with it, but the source is not left skipped.
    @Test func aTrialWhoseEventCannotBeWrittenStillClosesTheBreaker() async throws {
        try await CRMFixture.with { service in
            service.crm.status = 500
            for _ in 1...5 { _ = try await service.lookup() }
            let head = try service.head()
            try service.db.write { connection in
                try connection.execute(
                    "CREATE TRIGGER no_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END")
            }
            service.crm.status = 200
            service.time.advance(by: 31)
            #expect(try await service.lookup() == 500, "the trial's answer is lost with its event")
            try service.db.write { try $0.execute("DROP TRIGGER no_events") }
            let requests = service.crm.requests
            #expect(try await service.lookup() == 200)
            #expect(service.crm.requests == requests + 1, "closed: the source is asked, not skipped")
            #expect(try service.recorded(after: head).isEmpty, "the transition's event went with its transaction")
        }
    }

    /// Concurrent outcomes: however many calls fail or succeed at once, each transition is told once,
    /// and the events come in the order of the transitions.
    @Test func concurrentOutcomesTellEachTransitionOnceInOrder() async throws {
        try await CRMFixture.with { service in
            let head = try service.head()
            let breakers = service.breakers
            let now = service.time.now
            for outcome in [CircuitBreaker.Outcome.failed, .succeeded, .failed, .succeeded] {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<40 {
                        group.addTask {
                            try breakers.report(outcome, for: "crm", lastError: "timed out", now: now)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let events = try service.recorded(after: head)
            #expect(
                events.map(\.type) == [
                    "source.breaker_opened", "source.breaker_closed", "source.breaker_opened", "source.breaker_closed",
                ])
        }
    }
}

extension CRMEventTests {
    /// The OpenAPI document lists exactly the types the service tells.
    @Test func theOpenAPIDocumentListsEveryEventType() throws {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Services/concierge-crm-lookup/openapi.json")
        let json = try JSONParser.parse(Array(try Data(contentsOf: document)))
        let listed = json.objectValue?["components"]?.objectValue?["schemas"]?.objectValue?["CRMEventType"]?
            .objectValue?["enum"]?.arrayValue?.compactMap(\.stringValue)
        let told = [
            CustomerImport.eventType, BreakerEvent.opened(failures: 5, until: Date(), lastError: "x").type,
            BreakerEvent.closed(by: .success).type,
        ]
        #expect(listed.map(Set.init) == Set(told))
        #expect(json.objectValue?["paths"]?.objectValue?["/v1/events"] != nil)
    }
}
