import ConciergeModels

/// Which web origins may call the service from a browser (CORS, as the WHATWG Fetch standard defines
/// it) and what the answers tell them. Off unless the service is given one (`CONCIERGE_CORS_ORIGINS`).
///
/// With a policy, a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) of any path
/// that has routes is answered by the server itself, without a token: 204 with the path's methods for a
/// listed origin, 403 (a problem, no CORS headers) for another. Every other answer to a listed origin
/// carries `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers`. Tokens travel in
/// `Authorization`, never in cookies, so credentials are not allowed (`*` works with bearer tokens).
public struct CORSPolicy: Sendable, Equatable {
    /// Exact origins (`https://desk.example.com`): lower-case, without a default port.
    public let origins: Set<String>
    /// `*`: every origin, answered `Access-Control-Allow-Origin: *`.
    public let allowsAnyOrigin: Bool
    /// How long a browser may keep a preflight's answer (`Access-Control-Max-Age`); default 600 s, so
    /// a change of the origin list reaches browsers within ten minutes.
    public var maxAgeSeconds = 600

    /// Request headers a browser may send besides the safelisted ones.
    public static let allowedHeaders = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
    /// Answer headers a page's script may read besides the safelisted ones.
    public static let exposedHeaders = "X-Request-ID, Location, Retry-After, Idempotency-Replayed"

    /// - Parameter origins: origins as `ServiceConfig` checked them, or `["*"]`.
    public init(origins: [String]) {
        allowsAnyOrigin = origins.contains("*")
        self.origins = Set(origins.filter { $0 != "*" }.map { $0.lowercased() })
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`; nil when it is not allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin else { return nil }
        if allowsAnyOrigin { return "*" }
        let folded = origin.lowercased()
        return origins.contains(folded) ? origin : nil
    }

    /// Whether `request` is a CORS preflight rather than an `OPTIONS` request of its own.
    static func isPreflight(_ request: Request) -> Bool {
        request.method == "OPTIONS" && request.header("origin") != nil
            && request.header("access-control-request-method") != nil
    }

    /// The answer to a preflight of a path whose routes take `methods`.
    func preflightAnswer(to request: Request, methods: [String]) -> Response {
        guard let allowed = allowedOrigin(request.header("origin")) else {
            var refused = Response.problem(
                Problem(
                    status: 403, title: "Origin not allowed",
                    detail: "This origin may not call the service from a browser (CONCIERGE_CORS_ORIGINS)."))
            if !allowsAnyOrigin { refused.headers.append(("Vary", "Origin")) }
            return refused
        }
        var answer = Response(status: 204)
        answer.headers = [
            ("Access-Control-Allow-Origin", allowed),
            ("Access-Control-Allow-Methods", methods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", Self.allowedHeaders),
            ("Access-Control-Max-Age", String(maxAgeSeconds)),
        ]
        if !allowsAnyOrigin { answer.headers.append(("Vary", "Origin")) }
        return answer
    }

    /// Adds to an answer that is not a preflight's what a browser needs to hand it to the page: the
    /// allowed origin and the readable headers for a listed origin, and `Vary: Origin` whenever the
    /// answer depends on the origin (an explicit list), so that no cache serves one origin's answer to another.
    func decorate(_ response: inout Response, origin: String?) {
        if !allowsAnyOrigin { response.headers.append(("Vary", "Origin")) }
        guard let allowed = allowedOrigin(origin) else { return }
        response.headers.append(("Access-Control-Allow-Origin", allowed))
        response.headers.append(("Access-Control-Expose-Headers", Self.exposedHeaders))
    }
}
