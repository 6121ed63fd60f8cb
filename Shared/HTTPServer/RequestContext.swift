import ConciergeAuth
import ConciergeLogging
import ConciergeModels

/// Per-request state handed to handlers: path parameters, the caller's claims, the request id and a logger.
public struct RequestContext: Sendable {
    public var parameters: Parameters
    /// The verified token's claims; `nil` only on open routes.
    public var claims: Claims?
    public let requestID: String
    public var logger: Logger

    public init(parameters: Parameters = Parameters(), claims: Claims? = nil, requestID: String, logger: Logger) {
        self.parameters = parameters
        self.claims = claims
        self.requestID = requestID
        self.logger = logger
    }

    /// The caller's claims; throws 401 on an open route.
    public func requireClaims() throws -> Claims {
        guard let claims else { throw AuthError.missingToken }
        return claims
    }
}

/// Path parameters captured by the router (`/v1/contacts/{id}` → `id`), percent-decoded.
public struct Parameters: Sendable {
    private var values: [(String, String)] = []

    public init() {}

    mutating func set(_ name: String, _ value: String) { values.append((name, value)) }

    public func get(_ name: String) -> String? {
        for (key, value) in values where key == name { return value }
        return nil
    }

    /// The named parameter; a 400 if the route has none by that name (a programming error surfaced safely).
    public func require(_ name: String) throws -> String {
        guard let value = get(name) else { throw Problem.badRequest("Missing path parameter \(name).") }
        return value
    }
}
