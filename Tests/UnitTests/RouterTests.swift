import ConciergeModels
import Testing

@testable import HTTPServer

/// Route lookup by method and path segments.
@Suite struct RouterTests {
    let router: Router

    init() {
        router = Router()
        let ok: Handler = { _, _ in Response(status: 200) }
        router.get("/healthz", access: .open, ok)
        router.get("/v1/contacts", ok)
        router.post("/v1/contacts", ok)
        router.post("/v1/contacts/resolve", access: .services, ok)
        router.get("/v1/contacts/{id}", ok)
        router.patch("/v1/contacts/{id}", ok)
        router.delete("/v1/contacts/{id}", ok)
        router.post("/v1/contacts/{id}/merge", access: .managers, ok)
        router.get("/v1/agents/{agentId}/inboxes/{inboxId}", ok)
        router.post("/v1/import", access: .administrators, maxBodyBytes: 64 << 20, ok)
    }

    @Test func literalRouteMatchesWithoutParameters() throws {
        let (route, parameters) = try #require(found(router.match(method: "GET", path: "/v1/contacts")))
        #expect(route.pattern == "/v1/contacts")
        #expect(route.method == "GET")
        #expect(route.access == .agents)
        #expect(parameters.get("id") == nil)
    }

    @Test func parameterSegmentCapturesItsValue() throws {
        let (route, parameters) = try #require(found(router.match(method: "PATCH", path: "/v1/contacts/c-42")))
        #expect(route.pattern == "/v1/contacts/{id}")
        #expect(route.method == "PATCH")
        #expect(parameters.get("id") == "c-42")
        #expect(try parameters.require("id") == "c-42")
    }

    @Test func literalSegmentWinsOverAParameterAtTheSamePlace() throws {
        let (literal, literalParameters) = try #require(
            found(router.match(method: "POST", path: "/v1/contacts/resolve")))
        #expect(literal.pattern == "/v1/contacts/resolve")
        #expect(literal.access == .services)
        #expect(literalParameters.get("id") == nil)
        let (merge, mergeParameters) = try #require(found(router.match(method: "POST", path: "/v1/contacts/abc/merge")))
        #expect(merge.pattern == "/v1/contacts/{id}/merge")
        #expect(mergeParameters.get("id") == "abc")
    }

    @Test func severalParametersAreCapturedByName() throws {
        let (route, parameters) = try #require(found(router.match(method: "GET", path: "/v1/agents/a1/inboxes/i2")))
        #expect(route.pattern == "/v1/agents/{agentId}/inboxes/{inboxId}")
        #expect(parameters.get("agentId") == "a1")
        #expect(parameters.get("inboxId") == "i2")
    }

    @Test(arguments: [
        ("a%20b", "a b"),
        ("a%2Fb", "a/b"),
        ("caf%C3%A9", "café"),
        ("a+b", "a+b"),
        ("%40home", "@home"),
        ("plain", "plain"),
    ])
    func parametersArePercentDecoded(raw: String, decoded: String) throws {
        let (_, parameters) = try #require(found(router.match(method: "GET", path: "/v1/contacts/\(raw)"[...])))
        #expect(parameters.get("id") == decoded)
    }

    @Test(arguments: ["/v1/contacts/%zz", "/v1/contacts/%4", "/v1/contacts/%C3"])
    func badEscapeInAParameterIsNotFound(path: String) {
        #expect(isNotFound(router.match(method: "GET", path: path[...])))
    }

    @Test(arguments: ["/", "/v1", "/v1/nothing", "/v1/contacts/a/b", "/v1/contacts/a/merge/x", "/healthz/x"])
    func unknownPathIsNotFound(path: String) {
        #expect(isNotFound(router.match(method: "GET", path: path[...])))
        #expect(isNotFound(router.match(method: "POST", path: path[...])))
    }

    @Test func knownPathWithAnotherMethodIsMethodNotAllowedListingTheAllowedOnes() {
        #expect(allowed(router.match(method: "DELETE", path: "/v1/contacts")) == ["GET", "POST"])
        #expect(allowed(router.match(method: "POST", path: "/v1/contacts/x")) == ["DELETE", "GET", "PATCH"])
        #expect(allowed(router.match(method: "GET", path: "/v1/contacts/x/merge")) == ["POST"])
    }

    @Test func headFallsBackToGet() throws {
        let (route, parameters) = try #require(found(router.match(method: "HEAD", path: "/v1/contacts/c1")))
        #expect(route.method == "GET")
        #expect(route.pattern == "/v1/contacts/{id}")
        #expect(parameters.get("id") == "c1")
    }

    @Test func headWithoutAGetRouteIsMethodNotAllowed() {
        #expect(allowed(router.match(method: "HEAD", path: "/v1/contacts/resolve")) == ["POST"])
    }

    @Test func trailingAndRepeatedSlashesDoNotChangeTheMatch() throws {
        for path in ["/v1/contacts/", "//v1//contacts"] {
            let (route, _) = try #require(found(router.match(method: "GET", path: path[...])))
            #expect(route.pattern == "/v1/contacts")
        }
    }

    @Test func routesKeepTheirBodyLimitAndAreListed() throws {
        let (route, _) = try #require(found(router.match(method: "POST", path: "/v1/import")))
        #expect(route.maxBodyBytes == 64 << 20)
        #expect(try #require(found(router.match(method: "POST", path: "/v1/contacts"))).0.maxBodyBytes == 1 << 20)
        #expect(router.routes.count == 10)
        #expect(router.routes.map(\.pattern).first == "/healthz")
    }

    @Test func missingParameterIsABadRequest() {
        let parameters = Parameters()
        let problem = #expect(throws: Problem.self) { try parameters.require("id") }
        #expect(problem?.status == 400)
        #expect(parameters.get("id") == nil)
    }
}

private func found(_ match: Router.Match) -> (Route, Parameters)? {
    if case .found(let route, let parameters) = match { (route, parameters) } else { nil }
}

private func allowed(_ match: Router.Match) -> [String]? {
    if case .methodNotAllowed(let allowed) = match { allowed } else { nil }
}

private func isNotFound(_ match: Router.Match) -> Bool {
    if case .notFound = match { true } else { false }
}
