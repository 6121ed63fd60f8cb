import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// What a browser page or an API tool reaching a real service sees: CORS as `CONCIERGE_CORS_ORIGINS`
/// sets it, and an OpenAPI document whose `servers` is where the service actually is.
@Suite struct BrowserAccessTests {
    @Test func aServiceWithCORSOriginsAnswersPreflightsAndLabelsAnswers() async throws {
        let desk = "https://desk.example.com"
        try await withServices([.contacts], environment: ["CONCIERGE_CORS_ORIGINS": desk]) { cluster in
            let preflight = try await cluster.raw(.contacts)
                .raw(
                    "OPTIONS", "/v1/contacts/c1/merge",
                    headers: [("Origin", desk), ("Access-Control-Request-Method", "POST")])
            #expect(preflight.status == 204)
            #expect(preflight.header("access-control-allow-origin") == desk)
            #expect(preflight.header("access-control-allow-methods") == "POST")
            let created = try await cluster.raw(.contacts, token: cluster.token(.agent))
                .raw("POST", "/v1/contacts", body: Array(#"{"name":"Ada"}"#.utf8), headers: [("Origin", desk)])
            #expect(created.status == 201)
            #expect(created.header("access-control-allow-origin") == desk)
            #expect(created.header("access-control-expose-headers")?.contains("Idempotency-Replayed") == true)
            let elsewhere = try await cluster.raw(.contacts)
                .raw(
                    "OPTIONS", "/v1/contacts",
                    headers: [("Origin", "https://other.example.com"), ("Access-Control-Request-Method", "POST")])
            #expect(elsewhere.status == 403)
            #expect(elsewhere.header("access-control-allow-origin") == nil)
        }
    }

    @Test func theServedDocumentNamesThePortTheServiceListensOn() async throws {
        try await withServices([.routing]) { cluster in
            let port = try cluster.service(.routing).port
            let response = try await cluster.raw(.routing).raw("GET", "/openapi.json")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            let servers = try #require(document["servers"] as? [[String: Any]])
            #expect(servers.compactMap { $0["url"] as? String } == ["http://127.0.0.1:\(port)"])
        }
    }
}
