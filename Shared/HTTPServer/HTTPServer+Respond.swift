import ConciergeAuth
import ConciergeCore
import ConciergeLogging
import ConciergeModels
import Glibc

extension HTTPServer {
    /// Authorises and runs one request on its route (`match`, from the router); maps every error to a
    /// problem; logs and counts it. Returns the serialised head (and body), the file or stream whose
    /// bytes follow it if any, and whether the connection stays open.
    func respond(to request: Request, match: Router.Match) async -> (
        bytes: [UInt8], file: ResponseFile?, stream: ResponseStream?, keepAlive: Bool
    ) {
        let start = Monotonic.nanoseconds()
        // A spooled body lives as long as its request.
        defer { if let file = request.bodyFile { unlink(file) } }
        let requestID = nextRequestID(from: request)
        var context = RequestContext(requestID: requestID, logger: logger.with("requestId", requestID))
        var routeLabel = "unmatched"
        var isPreflight = false
        let methodLabel = Self.methodLabel(request.method)
        var response: Response
        do {
            switch match {
            case .notFound:
                response = .problem(Problem(status: 404, title: "Not found", detail: "No route for \(request.path)."))
            case .methodNotAllowed(let allowed):
                if let cors = configuration.cors, CORSPolicy.isPreflight(request) {
                    // Answered here, before any token check: a browser sends none with a preflight.
                    routeLabel = "preflight"
                    isPreflight = true
                    response = cors.preflightAnswer(to: request, methods: allowed)
                    break
                }
                // A method of the client's own invention is not echoed: it may be kilobytes long.
                let method = methodLabel == "other" ? "This method" : methodLabel
                response = .problem(
                    Problem(status: 405, title: "Method not allowed", detail: "\(method) is not allowed here."))
                response.headers.append(("Allow", allowed.joined(separator: ", ")))
            case .found(let route, let parameters):
                routeLabel = route.pattern
                context.parameters = parameters
                if !route.access.isOpen {
                    context.claims = try authorize(request, for: route)
                }
                try Self.checkMediaType(of: request, for: route)
                try request.checkQueryEncoding()
                let handlerContext = context
                response = try await RequestTrace.$requestID.withValue(requestID) {
                    if route.idempotencyKey == .replayed, let idempotentRequests,
                        request.head.header("idempotency-key") != nil
                    {
                        return try await idempotentRequests.respond(to: request, context: handlerContext) {
                            await self.outcome(of: route, request, handlerContext)
                        }
                    }
                    return try await route.handler(request, handlerContext)
                }
            }
        } catch {
            response = errorResponse(error, context: context)
        }
        if let cors = configuration.cors, !isPreflight {
            cors.decorate(&response, origin: request.head.header("origin"))
        }
        let keepAlive = request.head.keepAlive && response.stream == nil
        let seconds = Double(Monotonic.nanoseconds() - start) / 1e9
        metrics.record(method: methodLabel, route: routeLabel, status: response.status, seconds: seconds)
        context.logger.info(
            "request",
            [
                "method": methodLabel, "route": routeLabel, "status": String(response.status),
                "ms": String(Double(Int(seconds * 100_000)) / 100),
            ])
        let includeBody = request.method != "HEAD"
        if !includeBody, let stream = response.stream {
            // A HEAD of a stream: the head only, and the producer is told at once that nobody listens.
            stream.markClosed()
            response.stream = nil
        }
        let bytes = response.serialized(requestID: requestID, keepAlive: keepAlive, includeBody: includeBody)
        return (bytes, includeBody ? response.file : nil, response.stream, keepAlive)
    }

    /// The handler's answer, its errors turned into theirs, for a request whose answer may be kept.
    private func outcome(of route: Route, _ request: Request, _ context: RequestContext) async -> Response {
        do {
            return try await route.handler(request, context)
        } catch {
            return errorResponse(error, context: context)
        }
    }

    /// The method as metrics and logs name it: a standard method (RFC 9110 §9, and PATCH) as sent, any
    /// other `other`, so what unauthenticated clients send cannot grow the label set without bound.
    static func methodLabel(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT": method
        default: "other"
        }
    }

    /// 415 for a POST, PUT or PATCH whose body is not JSON, on a route that takes only JSON (SPEC §2):
    /// also where the handler never reads the body, so a mistyped request changes nothing.
    static func checkMediaType(of request: Request, for route: Route) throws {
        switch request.method {
        case "POST", "PUT", "PATCH": break
        default: return
        }
        guard !request.body.isEmpty, !route.acceptsAnyBody, !route.streamsBody,
            !(request.head.header("content-type").map(Request.isJSON) ?? false)
        else { return }
        throw Problem(
            status: 415, title: "Unsupported media type", detail: "Send the body as Content-Type: application/json.")
    }

    private func authorize(_ request: Request, for route: Route) throws -> Claims {
        guard let header = request.head.header("authorization"), header.utf8.count > 7,
            header.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 })
        else { throw AuthError.missingToken }
        guard let signer else { throw AuthError.badSignature }
        let claims = try signer.verify(String(header.dropFirst(7)).trimmingSpaces)
        guard route.access.admits(claims.role) else { throw AuthError.forbidden(claims.role) }
        if let revocation, revocation.isRevoked(subject: claims.sub) { throw AuthError.deactivated }
        return claims
    }

    private func errorResponse(_ error: any Error, context: RequestContext) -> Response {
        switch error {
        case let convertible as any ProblemConvertible:
            var response = Response.problem(convertible.problem)
            if convertible.problem.status == 401 { response.headers.append(("WWW-Authenticate", "Bearer")) }
            return response
        case let decoding as DecodingError:
            return .problem(JSONCoding.problem(for: decoding))
        default:
            if let problem = problemFor?(error) { return .problem(problem) }
            context.logger.error("unhandled error", ["error": String(describing: error)])
            return .problem(
                Problem(
                    status: 500, title: "Internal server error",
                    detail: "The request failed; see the server log for \(context.requestID)."))
        }
    }
}
