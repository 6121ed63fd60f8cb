import CTLS
import Glibc

/// One TLS client session over memory buffers: OpenSSL encrypts into `outgoing` and decrypts from
/// `incoming`, and the owning `ClientConnection` moves those bytes over its socket with its own
/// deadline-bounded I/O — so TLS honours the same deadlines as plain http, and OpenSSL never
/// writes to the socket itself (no SIGPIPE, no blocking call without a deadline).
///
/// Owned by exactly one connection, hence one thread at a time (see `ClientConnection`).
final class TLSSession {
    let ssl: OpaquePointer
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer
    /// The socket reached its end; OpenSSL has been told.
    private(set) var sawEndOfInput = false
    /// A fatal error happened: OpenSSL forbids a shutdown afterwards.
    var isBroken = false

    /// A session that will verify the peer's certificate against `host`: an IP address must be in
    /// its IP addresses, a name in its DNS names (wildcards per RFC 6125). Names also go out as SNI.
    init(context: TLSContext, host: String) throws(HTTPClientError) {
        guard let ssl = SSL_new(context.pointer) else {
            throw .connectFailed("TLS setup failed: \(TLSContext.lastError())")
        }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .connectFailed("TLS setup failed: out of memory")
        }
        SSL_set_bio(ssl, incoming, outgoing)  // The session now owns both buffers.
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing
        let named: Bool
        if Self.isIPAddress(host) {
            named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
        } else {
            named = ctls_set_server_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1
        }
        guard named else { throw .connectFailed("TLS setup failed for host \(host): \(TLSContext.lastError())") }
    }

    deinit { SSL_free(ssl) }

    /// Records OpenSSL produced since the last call, to be sent as they are.
    func takeOutgoing() -> [UInt8] {
        let count = Int(BIO_ctrl_pending(outgoing))
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = Int(max(0, BIO_read(outgoing, buffer.baseAddress, Int32(count))))
        }
    }

    /// Hands bytes read from the socket to OpenSSL.
    func feed(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
    }

    func feedEndOfInput() {
        sawEndOfInput = true
        ctls_set_end_of_input(incoming)
    }

    /// Whether decrypted or still encrypted bytes wait inside OpenSSL.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) != 0 || BIO_ctrl_pending(incoming) > 0 }

    /// Why the last call failed, in words; a failed certificate check says so and why.
    func failureReason() -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            return "certificate verify failed: \(String(cString: X509_verify_cert_error_string(verify)))"
        }
        return TLSContext.lastError()
    }

    /// Queues a close_notify alert (see `takeOutgoing`) if the session is established and sound.
    func shutDown() {
        guard !isBroken, !sawEndOfInput, SSL_is_init_finished(ssl) == 1 else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }
}

@available(*, unavailable) extension TLSSession: Sendable {}
