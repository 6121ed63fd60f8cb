import CTLS

extension ClientConnection {
    /// How one OpenSSL call ended once driven to completion.
    enum TLSOutcome {
        case done
        /// The peer ended the TLS stream (close_notify, or the socket closed).
        case closed
        case failed(String)
    }

    /// Runs the TLS handshake for `host` within `deadline`; the peer's certificate must chain to a
    /// trusted authority and name `host`, else `connectFailed` says why.
    func startTLS(host: String, context: TLSContext, deadline: UInt64) throws(HTTPClientError) {
        let session = try TLSSession(context: context, host: host)
        tls = session
        let outcome: TLSOutcome
        do {
            outcome = try drive(session, deadline: deadline) { SSL_connect(session.ssl) }
        } catch .timedOut {
            throw .timedOut
        } catch {
            outcome = .closed
        }
        switch outcome {
        case .done: return
        case .closed: throw .connectFailed("TLS handshake with \(host) failed: the server closed the connection")
        case .failed(let reason): throw .connectFailed("TLS handshake with \(host) failed: \(reason)")
        }
    }

    func writeTLS(_ session: TLSSession, _ bytes: [UInt8], deadline: UInt64) throws(HTTPClientError) {
        guard !bytes.isEmpty else { return }
        var written = 0
        let outcome = try drive(session, deadline: deadline) {
            bytes.withUnsafeBytes { SSL_write_ex(session.ssl, $0.baseAddress, $0.count, &written) }
        }
        // Memory buffers never take part of a record: done means all of it.
        guard case .done = outcome else { throw .connectionClosed }
    }

    func readTLS(_ session: TLSSession, into buffer: inout [UInt8], deadline: UInt64) throws(HTTPClientError) -> Int {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var count = 0
        let outcome = try drive(session, deadline: deadline) {
            chunk.withUnsafeMutableBytes { SSL_read_ex(session.ssl, $0.baseAddress, $0.count, &count) }
        }
        switch outcome {
        case .done:
            buffer.append(contentsOf: chunk[0..<count])
            return count
        case .closed: return 0
        case .failed(let reason): throw .malformedResponse("TLS: \(reason)")
        }
    }

    /// Repeats `operation` — an OpenSSL call answering 1 on success — until it is done, sending the
    /// records it produced and feeding it what the socket brings, all within `deadline`.
    /// - Throws: only the socket's own errors (`timedOut`, `connectionClosed`).
    private func drive(
        _ session: TLSSession, deadline: UInt64, _ operation: () -> Int32
    ) throws(HTTPClientError) -> TLSOutcome {
        while true {
            ERR_clear_error()  // SSL_get_error reads this thread's queue: only this call's errors may be on it.
            let result = operation()
            let status = result == 1 ? SSL_ERROR_NONE : SSL_get_error(session.ssl, result)
            switch status {
            case SSL_ERROR_NONE, SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let records = session.takeOutgoing()
                if !records.isEmpty { try sendRaw(records, deadline: deadline) }
                if status == SSL_ERROR_NONE { return .done }
                if status == SSL_ERROR_WANT_READ {
                    guard !session.sawEndOfInput else { return .closed }  // Nothing more will come.
                    var bytes: [UInt8] = []
                    let count = try receiveRaw(into: &bytes, deadline: deadline)
                    if count == 0 { session.feedEndOfInput() } else { session.feed(bytes) }
                }
            case SSL_ERROR_ZERO_RETURN:
                return .closed
            default:
                // OpenSSL 3 reports a socket end without close_notify as an error; for HTTP it is an
                // end like any other (framing tells whether the answer was complete).
                session.isBroken = true
                return session.sawEndOfInput ? .closed : .failed(session.failureReason())
            }
        }
    }
}
