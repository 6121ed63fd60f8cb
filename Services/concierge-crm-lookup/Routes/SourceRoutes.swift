import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime

/// HTTP shape of /v1/sources (SPEC §7): external CRMs, administrators only.
struct SourceRoutes: Sendable {
    let store: SourceStore
    let breaker: CircuitBreaker
    /// Which addresses a source's URL may lead to; an address literal it refuses is refused here.
    let policy: OutboundPolicy

    /// Saving or deleting a source closes its breaker, with the event if it was open.
    private var breakers: SourceBreakers { SourceBreakers(breaker: breaker, store: store) }

    func register(on router: Router) {
        router.put("/v1/sources/{name}", access: .administrators, put)
        router.get("/v1/sources", access: .services, list)
        router.get("/v1/sources/{name}", access: .services, get)
        router.delete("/v1/sources/{name}", access: .administrators, delete)
    }

    @Sendable func put(_ request: Request, _ context: RequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard name != "directory", !name.isEmpty, name.count <= 64,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw CRMError.invalid(
                field: "name", message: "Source names are 1–64 letters, digits, - or _, and not \"directory\".")
        }
        let input = try request.decode(SourceConfig.self)
        try Self.check(input.urlTemplate, policy: policy)
        let timeout = input.timeoutMs ?? 2000
        guard (1...60_000).contains(timeout) else {
            throw CRMError.unprocessable(field: "timeoutMs", message: "timeoutMs must be from 1 to 60000.")
        }
        let ttl = input.cacheTtlSeconds ?? 300
        guard (0...86_400 * 30).contains(ttl) else {
            throw CRMError.unprocessable(
                field: "cacheTtlSeconds", message: "cacheTtlSeconds must be from 0 to 2592000.")
        }
        // In name order, so of several bad headers the same one is named every time.
        for (header, value) in (input.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !header.isEmpty, header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
                StoredText.isAllowed(value)  // no CR/LF to split the request, nor any other control character
            else { throw CRMError.unprocessable(field: "headers.\(header)", message: "Invalid header name or value.") }
            guard !SourceLookup.reservedHeaders.contains(header.lowercased()) else {
                throw CRMError.unprocessable(
                    field: "headers.\(header)",
                    message: "\(header) is set by the lookup's HTTP client itself and cannot be configured.")
            }
        }
        let stored = SourceStore.Stored(
            name: name, urlTemplate: input.urlTemplate, headers: input.headers ?? [:], timeoutMs: timeout,
            cacheTtlSeconds: ttl,
            updatedAt: Timestamp.now())
        return try .json(try breakers.save(stored))
    }

    @Sendable func list(_ request: Request, _ context: RequestContext) async throws -> Response {
        let all = try store.all().map { breakers.masked($0) }
        return try .json(Page(items: all, nextCursor: nil))
    }

    @Sendable func get(_ request: Request, _ context: RequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let stored = try store.get(name) else { throw CRMError.sourceNotFound(name) }
        return try .json(breakers.masked(stored))
    }

    @Sendable func delete(_ request: Request, _ context: RequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard try breakers.delete(name) else { throw CRMError.sourceNotFound(name) }
        return .noContent()
    }

    /// Only http or https URLs with a host and a `{{email}}` or `{{phone}}` placeholder, whose host is
    /// no address the outbound policy refuses (a host name is checked on each lookup, once resolved).
    static func check(_ template: String, policy: OutboundPolicy) throws {
        guard StoredText.isAllowed(template) else {
            throw CRMError.unprocessable(field: "urlTemplate", message: StoredText.refusal(field: "urlTemplate"))
        }
        guard template.contains("{{email}}") || template.contains("{{phone}}") else {
            throw CRMError.unprocessable(
                field: "urlTemplate", message: "urlTemplate needs a {{email}} or {{phone}} placeholder.")
        }
        let sample = SourceLookup.fill(template, field: "email", value: "x")
        guard let url = URL(string: sample), let scheme = url.scheme?.lowercased(), url.host != nil else {
            throw CRMError.unprocessable(field: "urlTemplate", message: "urlTemplate is not a valid URL.")
        }
        guard scheme == "http" || scheme == "https" else {
            throw CRMError.unprocessable(field: "urlTemplate", message: "Only http and https URLs are allowed.")
        }
        if let why = policy.refusal(forURL: sample) {
            throw CRMError.unprocessable(field: "urlTemplate", message: "urlTemplate's host is refused: \(why).")
        }
    }
}
