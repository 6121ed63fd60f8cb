import ConciergeModels

/// Why a request could not be parsed. Each answers with its status and closes the connection.
public enum ParseError: Error, Equatable, Sendable {
    case malformed(String)
    case uriTooLong
    case headersTooLarge
    case tooManyHeaders
    /// The trailer fields after a chunked body exceed their limit.
    case trailersTooLarge
    case bodyTooLarge
    /// Both `Content-Length` and `Transfer-Encoding`, or two different `Content-Length`s.
    case ambiguousFraming(String)
    case unsupportedTransferEncoding

    public var status: Int {
        switch self {
        case .malformed, .ambiguousFraming, .unsupportedTransferEncoding: 400
        case .uriTooLong: 414
        case .headersTooLarge, .tooManyHeaders, .trailersTooLarge: 431
        case .bodyTooLarge: 413
        }
    }

    public var problem: Problem {
        switch self {
        case .malformed(let why): Problem(status: 400, title: "Malformed request", detail: why)
        case .uriTooLong:
            Problem(status: 414, title: "URI too long", detail: "The request target is longer than allowed.")
        case .headersTooLarge:
            Problem(
                status: 431, title: "Request header fields too large", detail: "Request line and headers exceed 16 KiB."
            )
        case .tooManyHeaders:
            Problem(status: 431, title: "Request header fields too large", detail: "More than 100 header fields.")
        case .trailersTooLarge:
            Problem(status: 431, title: "Request header fields too large", detail: "Trailer fields exceed 16 KiB.")
        case .bodyTooLarge:
            Problem(status: 413, title: "Content too large", detail: "The request body exceeds the limit.")
        case .ambiguousFraming(let why): Problem(status: 400, title: "Ambiguous message framing", detail: why)
        case .unsupportedTransferEncoding:
            Problem(
                status: 400, title: "Unsupported transfer encoding",
                detail: "Only chunked transfer encoding is accepted.")
        }
    }
}
