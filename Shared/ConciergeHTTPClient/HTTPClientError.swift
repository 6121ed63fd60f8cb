/// Why an outgoing request got no HTTP answer.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL(String)
    case unsupportedScheme(String)
    case cannotResolve(String)
    /// No connection: TCP failed, or for https the TLS handshake did (an untrusted certificate or one
    /// for another host says "certificate verify failed" and why).
    case connectFailed(String)
    /// The `OutboundPolicy` forbids every address the host resolved to: the host and why.
    case refusedTarget(String)
    case timedOut
    case connectionClosed
    case malformedResponse(String)
    case responseTooLarge
    /// A download could not be written to its file.
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL \(url)"
        case .unsupportedScheme(let scheme): "unsupported URL scheme \(scheme)"
        case .cannotResolve(let host): "cannot resolve host \(host)"
        case .connectFailed(let why): "connect failed: \(why)"
        case .refusedTarget(let why): "refused by the outbound policy: \(why)"
        case .timedOut: "timed out"
        case .connectionClosed: "connection closed before a complete answer"
        case .malformedResponse(let why): "malformed response: \(why)"
        case .responseTooLarge: "response too large"
        case .cannotWrite(let why): "cannot write the download: \(why)"
        }
    }
}
