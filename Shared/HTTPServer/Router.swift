import ConciergeModels

/// The handler shape every route uses.
public typealias Handler = @Sendable (Request, RequestContext) async throws -> Response

/// One registered route: its pattern (the metrics label), who may call it, and its handler.
public struct Route: Sendable {
    public let method: String
    public let pattern: String
    public let access: Access
    /// Largest body this route accepts; default 1 MiB (SPEC §2).
    public let maxBodyBytes: Int
    /// The body is spooled to a temporary file as it arrives, with no size limit but the disk
    /// (`Request.bodyFile`), instead of being held in memory.
    public let streamsBody: Bool
    /// The handler runs on the event loop that read the request (its task's executor), not on the
    /// global pool: no thread hand-off on the way in or out. Only for hot routes whose handlers never
    /// block for long — they hold up every other connection of that loop while they run.
    public let runsOnEventLoop: Bool
    /// The route takes a body of any media type (a raw echo); others take JSON only: a POST, PUT or
    /// PATCH with a body of another type is 415 before the handler runs, whether or not it reads the
    /// body (SPEC §2). A streamed body is always the handler's to check.
    public let acceptsAnyBody: Bool
    /// Whether the server keeps the answer to a request carrying `Idempotency-Key` and replays it to a
    /// repeat (`IdempotentRequests`); set at registration, `.replayed` by default on every POST.
    public let idempotencyKey: IdempotencyKeyUse
    let handler: Handler
}

/// What a route does with a client's `Idempotency-Key` header (the IETF httpapi draft "The
/// Idempotency-Key HTTP Header Field").
public enum IdempotencyKeyUse: Sendable, Equatable {
    /// The first request with a key runs; its answer is kept and a repeat gets it again without running
    /// (every public POST).
    case replayed
    /// The header is left to the handler: methods that are not POST, and service-to-service POSTs whose
    /// repeats are safe by a rule of their own (the outbox's entry id, an inbound `externalId`, a route
    /// request's message id), so the hot paths never write a stored answer.
    case notReplayed
}

/// Matches method + path to a route, by path segments with `{name}` parameters.
/// Built at start-up, then only read: registration is not thread-safe, lookup is.
public final class Router: @unchecked Sendable {
    private final class Node {
        var literal: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var routes: [String: Route] = [:]
    }

    public enum Match: Sendable {
        case found(Route, Parameters)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private let root = Node()
    public private(set) var routes: [Route] = []

    public init() {}

    public func get(
        _ path: String, access: Access = .agents, runsOnEventLoop: Bool = false, _ handler: @escaping Handler
    ) {
        add("GET", path, access: access, runsOnEventLoop: runsOnEventLoop, handler: handler)
    }
    public func post(
        _ path: String, access: Access = .agents, maxBodyBytes: Int = 1 << 20, streamsBody: Bool = false,
        runsOnEventLoop: Bool = false, acceptsAnyBody: Bool = false, idempotencyKey: IdempotencyKeyUse = .replayed,
        _ handler: @escaping Handler
    ) {
        add(
            "POST", path, access: access, maxBodyBytes: maxBodyBytes, streamsBody: streamsBody,
            runsOnEventLoop: runsOnEventLoop,
            acceptsAnyBody: acceptsAnyBody, idempotencyKey: idempotencyKey, handler: handler)
    }
    public func put(
        _ path: String, access: Access = .agents, runsOnEventLoop: Bool = false, _ handler: @escaping Handler
    ) {
        add("PUT", path, access: access, runsOnEventLoop: runsOnEventLoop, handler: handler)
    }
    public func patch(_ path: String, access: Access = .agents, _ handler: @escaping Handler) {
        add("PATCH", path, access: access, handler: handler)
    }
    public func delete(_ path: String, access: Access = .agents, _ handler: @escaping Handler) {
        add("DELETE", path, access: access, handler: handler)
    }

    public func add(
        _ method: String, _ path: String, access: Access, maxBodyBytes: Int = 1 << 20, streamsBody: Bool = false,
        runsOnEventLoop: Bool = false, acceptsAnyBody: Bool = false, idempotencyKey: IdempotencyKeyUse = .notReplayed,
        handler: @escaping Handler
    ) {
        var node = root
        for segment in path.split(separator: "/") {
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                if let existing = node.parameter {
                    precondition(existing.name == name, "conflicting parameter names at \(path)")
                    node = existing.node
                } else {
                    let child = Node()
                    node.parameter = (name, child)
                    node = child
                }
            } else {
                let key = String(segment)
                if let child = node.literal[key] {
                    node = child
                } else {
                    let child = Node()
                    node.literal[key] = child
                    node = child
                }
            }
        }
        let route = Route(
            method: method, pattern: path, access: access, maxBodyBytes: maxBodyBytes, streamsBody: streamsBody,
            runsOnEventLoop: runsOnEventLoop, acceptsAnyBody: acceptsAnyBody, idempotencyKey: idempotencyKey,
            handler: handler)
        precondition(node.routes[method] == nil, "route registered twice: \(method) \(path)")
        node.routes[method] = route
        routes.append(route)
    }

    public func match(method: String, path: Substring) -> Match {
        var node = root
        var parameters = Parameters()
        for segment in path.split(separator: "/") {
            if let child = node.literal[String(segment)] {
                node = child
            } else if let (name, child) = node.parameter, let value = URLCoding.decodePathSegment(segment) {
                parameters.set(name, value)
                node = child
            } else {
                return .notFound
            }
        }
        if let route = node.routes[method] { return .found(route, parameters) }
        if method == "HEAD", let route = node.routes["GET"] { return .found(route, parameters) }
        if node.routes.isEmpty { return .notFound }
        return .methodNotAllowed(allowed: node.routes.keys.sorted())
    }
}
