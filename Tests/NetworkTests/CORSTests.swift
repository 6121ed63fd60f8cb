import ConciergeAuth
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Testing

/// CORS through the real server: preflights of existing routes answered without a token for listed
/// origins (403 for others), CORS headers on every answer to a listed origin, nothing when CORS is off.
@Suite struct CORSTests {
    static let desk = "https://desk.example.com"

    static func router() -> Router {
        let router = basicRouter()
        router.get("/v1/widgets", access: .agents) { _, _ in .json(bytes: Array("[]".utf8)) }
        router.post("/v1/widgets", access: .agents) { _, _ in .json(bytes: Array("{}".utf8), status: 201) }
        router.delete("/v1/widgets/{id}", access: .administrators) { _, _ in .noContent() }
        return router
    }

    func withCORS(_ origins: [String]?, _ body: (Int) async throws -> Void) async throws {
        try await withServer(Self.router(), configure: { $0.cors = origins.map(CORSPolicy.init(origins:)) }) {
            _, port in
            try await body(port)
        }
    }

    func send(
        _ port: Int, _ method: String, _ path: String, origin: String?, headers: [(name: String, value: String)] = []
    ) async throws -> ClientResponse {
        var all = headers
        if let origin { all.append(("Origin", origin)) }
        return try await HTTPClient().send(ClientRequest(method: method, url: url(port, path), headers: all))
    }

    func preflight(_ port: Int, _ path: String, origin: String, method: String = "POST") async throws
        -> ClientResponse
    {
        try await send(
            port, "OPTIONS", path, origin: origin,
            headers: [
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", "authorization, content-type, idempotency-key"),
            ])
    }

    @Test func aPreflightOfAListedOriginIs204WithTheRoutesMethodsAndNeedsNoToken() async throws {
        try await withCORS([Self.desk, "http://localhost:5173"]) { port in
            let answer = try await preflight(port, "/v1/widgets", origin: Self.desk)
            #expect(answer.status == 204)
            #expect(answer.header("access-control-allow-origin") == Self.desk)
            #expect(answer.header("access-control-allow-methods") == "GET, POST")
            #expect(
                answer.header("access-control-allow-headers")
                    == "Authorization, Content-Type, Idempotency-Key, Last-Event-ID")
            #expect(answer.header("access-control-max-age") == "600")
            #expect(answer.header("vary") == "Origin")
            let parameter = try await preflight(
                port, "/v1/widgets/w1", origin: "http://localhost:5173", method: "DELETE")
            #expect(parameter.status == 204)
            #expect(parameter.header("access-control-allow-methods") == "DELETE")
            #expect(parameter.header("access-control-allow-origin") == "http://localhost:5173")
        }
    }

    @Test func aPreflightOfAnotherOriginIs403WithoutCORSHeaders() async throws {
        try await withCORS([Self.desk]) { port in
            let answer = try await preflight(port, "/v1/widgets", origin: "https://evil.example.com")
            #expect(answer.status == 403)
            #expect(answer.problem?.title == "Origin not allowed")
            #expect(answer.header("access-control-allow-origin") == nil)
            #expect(answer.header("access-control-allow-methods") == nil)
        }
    }

    @Test func aPreflightOfAnUnknownPathIs404AndAPlainOptionsIs405() async throws {
        try await withCORS([Self.desk]) { port in
            #expect(try await preflight(port, "/v1/nothing", origin: Self.desk).status == 404)
            let plain = try await send(port, "OPTIONS", "/v1/widgets", origin: nil)
            #expect(plain.status == 405)
            #expect(plain.header("allow") == "GET, POST")
        }
    }

    @Test func answersToAListedOriginCarryTheOriginAndTheReadableHeaders() async throws {
        try await withCORS([Self.desk]) { port in
            let token = testSigner.mint(sub: "ada", role: .agent, ttl: 600)
            let created = try await send(port, "POST", "/v1/widgets", origin: Self.desk, headers: bearer(token))
            #expect(created.status == 201)
            #expect(created.header("access-control-allow-origin") == Self.desk)
            #expect(
                created.header("access-control-expose-headers")
                    == "X-Request-ID, Location, Retry-After, Idempotency-Replayed")
            #expect(created.header("vary") == "Origin")
            // Refusals too, so that a page can read why.
            let refused = try await send(port, "GET", "/v1/widgets", origin: Self.desk)
            #expect(refused.status == 401)
            #expect(refused.header("access-control-allow-origin") == Self.desk)
            let other = try await send(port, "GET", "/v1/widgets", origin: "https://evil.example.com")
            #expect(other.header("access-control-allow-origin") == nil)
            #expect(other.header("vary") == "Origin")
        }
    }

    @Test func anyOriginIsAnsweredWithAStar() async throws {
        try await withCORS(["*"]) { port in
            let answer = try await preflight(port, "/v1/widgets", origin: "https://anyone.example.org")
            #expect(answer.status == 204)
            #expect(answer.header("access-control-allow-origin") == "*")
            #expect(answer.header("vary") == nil)
            let ping = try await send(port, "GET", "/ping", origin: "https://anyone.example.org")
            #expect(ping.header("access-control-allow-origin") == "*")
        }
    }

    @Test func withoutAPolicyNothingChanges() async throws {
        try await withCORS(nil) { port in
            let answer = try await preflight(port, "/v1/widgets", origin: Self.desk)
            #expect(answer.status == 405)
            #expect(answer.header("access-control-allow-origin") == nil)
            let ping = try await send(port, "GET", "/ping", origin: Self.desk)
            #expect(ping.header("access-control-allow-origin") == nil)
            #expect(ping.header("vary") == nil)
        }
    }
}
