import Testing

@testable import ConciergeCLI

/// What `concierge up` gives each service it starts.
@Suite struct ChildEnvironmentTests {
    private static let secret = String(repeating: "k", count: 40)

    private static func environment(_ inherited: [String: String]) throws -> [String: String] {
        let suite = ChildService.all
        let routing = try #require(suite.first { $0.name == "routing" })
        return routing.environment(
            inheriting: inherited, secret: try Secret(secret, from: "test"), dataFolder: "/srv/data", suite: suite)
    }

    @Test func childrenGetTheSuiteSecretTheirFileAndPortAndWhereTheOthersAre() throws {
        let environment = try Self.environment(["CONTACTS_URL": "http://elsewhere:1", "LOG_LEVEL": "debug"])
        #expect(environment["CONCIERGE_JWT_SECRET"] == Self.secret)
        #expect(environment["DATABASE_PATH"] == "/srv/data/routing.sqlite")
        #expect(environment["PORT"] == "8083")
        #expect(environment["CONTACTS_URL"] == "http://127.0.0.1:8081", "an inherited URL does not leak in")
        #expect(environment["LOG_LEVEL"] == "debug")
    }

    /// The secret goes to the children by value; a secret file the operator named is not passed on,
    /// or the children would refuse to start with both set.
    @Test func aSecretFileIsNotPassedOn() throws {
        let environment = try Self.environment(["CONCIERGE_JWT_SECRET_FILE": "/run/secrets/jwt-secret"])
        #expect(environment["CONCIERGE_JWT_SECRET"] == Self.secret)
        #expect(environment["CONCIERGE_JWT_SECRET_FILE"] == nil)
    }

    /// A local suite calls CRMs on this machine (stubs, a test CRM): allowed unless the operator said no.
    @Test func privateTargetsAreAllowedUnlessTheOperatorSaidOtherwise() throws {
        #expect(try Self.environment([:])["CONCIERGE_ALLOW_PRIVATE_TARGETS"] == "true")
        let refused = try Self.environment(["CONCIERGE_ALLOW_PRIVATE_TARGETS": "false"])
        #expect(refused["CONCIERGE_ALLOW_PRIVATE_TARGETS"] == "false")
    }
}
