import ConciergeAuth
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Testing

/// Bearer-token checks on routes that are not open (SPEC §2 "Authentication and roles").
@Suite struct ServerAuthTests {
    struct RevokedSubjects: TokenRevocation {
        let subjects: Set<String>
        func isRevoked(subject: String) -> Bool { subjects.contains(subject) }
    }

    static func router() -> Router {
        let router = basicRouter()
        router.get("/admin", access: .administrators) { _, context in
            .text("hello " + (try context.requireClaims().sub))
        }
        return router
    }

    static func adminURL(_ port: Int) -> String { url(port, "/admin") }

    @Test func missingTokenIs401WithChallenge() async throws {
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            for headers in [[], [("Authorization", "Basic YWRtaW46YWRtaW4=")], [("Authorization", "Bearer")]] {
                let response = try await client.get(Self.adminURL(port), headers: headers)
                #expect(response.status == 401)
                #expect(response.header("www-authenticate") == "Bearer")
                #expect(response.header("content-type") == "application/problem+json")
            }
            // Open routes need nothing.
            #expect(try await client.get(url(port, "/ping")).status == 200)
        }
    }

    @Test func forgedExpiredAndUnsignedTokensAre401() async throws {
        let now = Int(Date().timeIntervalSince1970)
        let forged = JWTSigner(secret: "some-other-secret-that-is-long-enough!").mint(
            sub: "admin", role: .administrator, ttl: 3600)
        let expired = testSigner.mint(Claims(sub: "admin", role: .administrator, exp: now - 3600, iat: now - 7200))
        let valid = testSigner.mint(sub: "admin", role: .administrator, ttl: 3600)
        let parts = valid.split(separator: ".")
        // alg "none" with the valid payload and no signature.
        let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + String(parts[1]) + "."
        // The valid header and signature around a payload that claims more.
        let tamperedPayload = Data(#"{"exp":\#(now + 3600),"role":"administrator","sub":"root"}"#.utf8)
            .base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(
                of: "/", with: "_")
        let tampered = String(parts[0]) + "." + tamperedPayload + "." + String(parts[2])
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            for token in [forged, expired, unsigned, tampered, "not-a-jwt"] {
                let response = try await client.get(Self.adminURL(port), headers: bearer(token))
                #expect(response.status == 401, "\(token)")
                #expect(response.header("www-authenticate") == "Bearer")
            }
        }
    }

    @Test func roleOutsideTheRouteIs403() async throws {
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            for role in [Role.agent, .teamManager, .service] {
                let token = testSigner.mint(sub: "someone", role: role, ttl: 3600)
                let response = try await client.get(Self.adminURL(port), headers: bearer(token))
                #expect(response.status == 403, "\(role)")
                #expect(response.header("content-type") == "application/problem+json")
            }
        }
    }

    @Test func administratorTokenIsAdmitted() async throws {
        try await withServer(Self.router()) { _, port in
            let token = testSigner.mint(sub: "admin", role: .administrator, ttl: 3600)
            let response = try await HTTPClient().get(Self.adminURL(port), headers: bearer(token))
            #expect(response.status == 200)
            #expect(response.text == "hello admin")
        }
    }

    @Test func revokedSubjectIs403() async throws {
        let revocation = RevokedSubjects(subjects: ["mallory"])
        try await withServer(Self.router(), revocation: revocation) { _, port in
            let client = HTTPClient()
            let revoked = try await client.get(
                Self.adminURL(port), headers: bearer(testSigner.mint(sub: "mallory", role: .administrator, ttl: 3600)))
            #expect(revoked.status == 403)
            #expect(revoked.problem?.detail?.contains("deactivated") == true)
            let other = try await client.get(
                Self.adminURL(port), headers: bearer(testSigner.mint(sub: "alice", role: .administrator, ttl: 3600)))
            #expect(other.status == 200)
        }
    }

    @Test func serverWithoutSignerRefusesProtectedRoutes() async throws {
        try await withServer(Self.router(), signer: nil) { _, port in
            let token = testSigner.mint(sub: "admin", role: .administrator, ttl: 3600)
            let response = try await HTTPClient().get(Self.adminURL(port), headers: bearer(token))
            #expect(response.status == 401)
        }
    }
}
