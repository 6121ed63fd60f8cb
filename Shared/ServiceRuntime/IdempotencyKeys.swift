import ConciergeAuth
import ConciergeCore
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Storage
import Synchronization

/// `Idempotency-Key` on every public POST (the IETF httpapi draft "The Idempotency-Key HTTP Header
/// Field"): the first request with a key runs, and its answer — status, headers, body — is kept for
/// 24 hours in the service's own database, under the key, the caller (the token's subject), the method
/// and the path. A repeat with the same body gets that answer again without running, marked
/// `Idempotency-Replayed: true`; the same key with another body is 422; the same key while the first
/// request is still running is 409 (with `Retry-After: 1`); a malformed key is 400.
///
/// Only answers a client can usefully be given again are kept: 2xx, and 4xx but 409 and 429 (a conflict
/// or an overload may clear). A 5xx is not: the retry runs again and may succeed.
///
/// Not atomic with the request's effect: the handler commits its own transaction(s) — some also reach
/// other services — and its answer is kept just after, in a transaction of its own. A crash between the
/// two loses only the kept answer, so a retry runs the request again (as it would have without a key);
/// a kept answer is never one that did not happen, because a request in flight is known only in memory
/// (one process per database: SQLite's lock) and nothing is written until its answer exists.
public final class IdempotencyKeys: IdempotentRequests {
    /// How long an answer is kept: 24 hours.
    public static let lifetime: TimeInterval = 24 * 60 * 60
    /// Longest key, in characters (printable ASCII).
    public static let maxKeyLength = 255

    let store: IdempotencyStore
    private let time: any TimeSource
    private let inFlight = Mutex<Set<IdempotencyStore.Scope>>([])

    /// - Parameter time: when answers are kept and expire; tests pass a `ManualTime`.
    public init(db: Database, time: any TimeSource = SystemTime()) {
        store = IdempotencyStore(db: db)
        self.time = time
    }

    public func respond(
        to request: Request, context: RequestContext, running handler: @Sendable () async -> Response
    ) async throws -> Response {
        guard let header = request.header("idempotency-key") else { return await handler() }
        let key = try Self.key(from: header)
        // Every route that keeps answers needs a token; an open one has no caller to key them by.
        guard let subject = context.claims?.sub else { return await handler() }
        let scope = IdempotencyStore.Scope(
            subject: subject, method: request.method, path: String(request.path), key: key)
        let fingerprint = try Self.fingerprint(of: request)
        if let kept = try store.kept(scope, now: milliseconds()) {
            return try Self.replay(kept, fingerprint: fingerprint, context: context)
        }
        guard inFlight.withLock({ $0.insert(scope).inserted }) else {
            var busy = Response.problem(
                Problem(
                    status: 409, title: "Request in progress",
                    detail: "A request with this Idempotency-Key is still being processed; retry once it is answered."))
            busy.headers.append(("Retry-After", "1"))
            return busy
        }
        defer { _ = inFlight.withLock { $0.remove(scope) } }
        // A first request with this key may have finished between the look above and the claim.
        if let kept = try store.kept(scope, now: milliseconds()) {
            return try Self.replay(kept, fingerprint: fingerprint, context: context)
        }
        let response = await handler()
        guard Self.isKept(response) else { return response }
        let now = milliseconds()
        do {
            try store.keep(
                .init(
                    bodySHA256: fingerprint, status: response.status,
                    headers: response.headers.map { [$0.name, $0.value] },
                    body: response.body),
                for: scope, now: now, expiresAt: now + Int64(Self.lifetime * 1000))
        } catch {
            // The request's effect is committed: answer it. A repeat runs again, as if no key was sent.
            context.logger.warning("idempotency key answer not kept", ["error": String(describing: error)])
        }
        return response
    }

    /// The kept answer again, or 422 when the repeat's body is not the first one's.
    private static func replay(_ kept: IdempotencyStore.Kept, fingerprint: [UInt8], context: RequestContext) throws
        -> Response
    {
        guard kept.bodySHA256 == fingerprint else {
            throw Problem(
                status: 422, title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was sent with another request body; use a new key for a new request.",
                errors: [.init(field: "Idempotency-Key", message: "Already used with another body.")])
        }
        context.logger.debug("idempotent request replayed", ["status": String(kept.status)])
        var headers = kept.headers.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil }
        headers.append(("Idempotency-Replayed", "true"))
        return Response(status: kept.status, headers: headers, body: kept.body)
    }

    /// Whether an answer is kept for repeats: 2xx and 4xx but 409 and 429, never a 5xx or a file.
    static func isKept(_ response: Response) -> Bool {
        guard response.file == nil, response.stream == nil else { return false }
        switch response.status {
        case 200..<300: return true
        case 409, 429: return false
        case 400..<500: return true
        default: return false
        }
    }

    /// The key a header carries: 1–255 printable ASCII characters (U+0020–U+007E), sent as they are or as
    /// a Structured Field string (`"…"`, RFC 8941), which is how the draft defines the field; 400 else.
    static func key(from header: String) throws -> String {
        let bytes = Array(header.utf8)
        var key: [UInt8] = []
        if bytes.first == UInt8(ascii: "\"") {
            guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else { throw malformed }
            var escaped = false
            for byte in bytes.dropFirst().dropLast() {
                if escaped {
                    guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { throw malformed }
                    key.append(byte)
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else {
                    guard byte != UInt8(ascii: "\"") else { throw malformed }
                    key.append(byte)
                }
            }
            guard !escaped else { throw malformed }
        } else {
            key = bytes
        }
        guard (1...maxKeyLength).contains(key.count), key.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw malformed
        }
        return String(decoding: key, as: UTF8.self)
    }

    private static var malformed: Problem {
        Problem.badRequest(
            "Idempotency-Key must be 1 to \(maxKeyLength) printable ASCII characters.", field: "Idempotency-Key")
    }

    /// SHA-256 of the request body, read from its spooled file for routes that stream uploads.
    static func fingerprint(of request: Request) throws -> [UInt8] {
        guard let file = request.bodyFile else { return Crypto.sha256(request.body) }
        guard let digest = Crypto.sha256(fileAt: file) else {
            throw Problem.unavailable("The request body could not be read back; try again later.")
        }
        return digest
    }

    private func milliseconds() -> Int64 { Int64((time.now.timeIntervalSince1970 * 1000).rounded(.down)) }
}
