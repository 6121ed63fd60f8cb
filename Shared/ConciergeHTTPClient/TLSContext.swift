import CTLS
import Synchronization

/// OpenSSL's client context for https: TLS 1.2 or later, the peer's certificate verified against
/// the system's trust store plus an optional PEM file of extra authorities (`CONCIERGE_CA_FILE`).
///
/// One per distinct CA file for the life of the process — in a service exactly one, made on the
/// first https request and never freed. `@unchecked Sendable`: the `SSL_CTX` is configured once in
/// `make` and only read afterwards (`SSL_new`), which OpenSSL allows from any thread.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_CTX_free(pointer) }

    /// Contexts made so far, by CA file (`""` for none); a failure is kept too, so a bad file is
    /// reported on every request rather than re-read each time.
    private static let made = Mutex<[String: Result<TLSContext, HTTPClientError>]>([:])

    /// The process-wide context trusting the system's authorities and those in `caFile`.
    static func shared(trusting caFile: String?) throws(HTTPClientError) -> TLSContext {
        try made.withLock { made in
            let key = caFile ?? ""
            if let known = made[key] { return known }
            let result = Result { () throws(HTTPClientError) in try make(trusting: caFile) }
            made[key] = result
            return result
        }.get()
    }

    private static func make(trusting caFile: String?) throws(HTTPClientError) -> TLSContext {
        guard let pointer = SSL_CTX_new(TLS_client_method()) else {
            throw .connectFailed("TLS setup failed: \(lastError())")
        }
        let context = TLSContext(pointer)
        guard ctls_set_min_tls12(pointer) == 1 else { throw .connectFailed("TLS setup failed: \(lastError())") }
        SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, nil)
        guard SSL_CTX_set_default_verify_paths(pointer) == 1 else {
            throw .connectFailed("TLS setup failed: cannot load the system trust store: \(lastError())")
        }
        if let caFile, SSL_CTX_load_verify_locations(pointer, caFile, nil) != 1 {
            throw .connectFailed("TLS setup failed: cannot load CA file \(caFile): \(lastError())")
        }
        return context
    }

    /// The reason of the newest error on this thread's OpenSSL error queue.
    static func lastError() -> String {
        let code = ERR_peek_last_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "unknown OpenSSL error" }
        return String(cString: reason)
    }
}
