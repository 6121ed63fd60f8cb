/// An RFC 9457 problem document, the body of every error answer (SPEC §2).
public struct Problem: Codable, Sendable, Equatable, Error {
    /// One invalid input, named by its JSON path (`emails[0]`) or workflow step id.
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var errors: [FieldError]?

    public init(status: Int, title: String, detail: String? = nil, errors: [FieldError]? = nil, type: String? = nil) {
        self.type = type ?? "https://concierge.dev/problems/\(Problem.slug(status))"
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
    }

    public static func badRequest(_ detail: String, field: String? = nil) -> Problem {
        Problem(
            status: 400, title: "Bad request", detail: detail,
            errors: field.map { [FieldError(field: $0, message: detail)] })
    }

    public static func notFound(_ what: String, id: String) -> Problem {
        Problem(status: 404, title: "\(what) not found", detail: "No \(what.lowercased()) has id \(id).")
    }

    public static func conflict(_ title: String, detail: String) -> Problem {
        Problem(status: 409, title: title, detail: detail)
    }

    public static func unprocessable(_ detail: String, errors: [FieldError]) -> Problem {
        Problem(status: 422, title: "Unprocessable content", detail: detail, errors: errors)
    }

    public static func unavailable(_ detail: String) -> Problem {
        Problem(status: 503, title: "Service unavailable", detail: detail)
    }

    static func slug(_ status: Int) -> String {
        switch status {
        case 400: "bad-request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not-found"
        case 405: "method-not-allowed"
        case 409: "conflict"
        case 413: "content-too-large"
        case 414: "uri-too-long"
        case 415: "unsupported-media-type"
        case 422: "unprocessable-content"
        case 429: "too-many-connections"
        case 431: "headers-too-large"
        case 502: "bad-gateway"
        case 503: "service-unavailable"
        case 504: "gateway-timeout"
        default: "error-\(status)"
        }
    }
}

/// A domain error that knows its problem document; the server turns it into the answer.
public protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension Problem: ProblemConvertible {
    public var problem: Problem { self }
}
