/// Keeps the answers to POSTs that carry `Idempotency-Key` and replays them to repeats (the IETF httpapi
/// draft "The Idempotency-Key HTTP Header Field"). The server asks it for every request with the header
/// on a route registered `.replayed`, once the caller is authorised; the service gives the server one
/// that stores the answers in its own database (`IdempotencyKeys`, in ServiceRuntime).
public protocol IdempotentRequests: Sendable {
    /// Answers `request`: by running `handler` — whose errors the server has already turned into their
    /// answers — or with the answer a first request with the same key got. Throws a problem for a key
    /// that cannot be honoured (malformed 400, still in flight 409, reused with another body 422).
    func respond(
        to request: Request, context: RequestContext, running handler: @Sendable () async -> Response
    ) async throws -> Response
}
