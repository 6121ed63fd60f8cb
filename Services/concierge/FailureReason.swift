import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation

/// Why a service did not answer as asked, in the few words an operator acts on: "connection refused",
/// "timed out after 2 s", "HTTP 503 (disk full)", "HTTP 401 (bad token: …)", "bad URL".
enum FailureReason {
    /// No HTTP answer came.
    static func of(_ error: HTTPClientError, timeout: Double? = nil) -> String {
        switch error {
        case .connectFailed(let why) where why.lowercased().contains("connection refused"):
            return "connection refused (nothing listens there)"
        case .connectFailed(let why): return "cannot connect: \(why)"
        case .timedOut: return timeout.map { "timed out after \(seconds($0))" } ?? "timed out"
        case .cannotResolve(let host): return "cannot resolve host \(host)"
        case .invalidURL, .unsupportedScheme: return "bad URL"
        case .connectionClosed: return "the connection closed before an answer"
        default: return error.description
        }
    }

    /// An answer other than the one hoped for: its status, with what it means or the body's `reason`
    /// (`/readyz` says why it is not ready) or problem title.
    static func of(status: Int, body: [UInt8]) -> String {
        switch status {
        case 401: return "HTTP 401 (bad token: missing, expired, or signed with another secret than the suite's)"
        case 403: return "HTTP 403 (the token's role may not do this)"
        default:
            let object = (try? JSONCoding.decode(JSONValue.self, from: body))?.objectValue
            let why = object?["reason"]?.stringValue ?? object?["detail"]?.stringValue ?? object?["title"]?.stringValue
            return why.map { "HTTP \(status) (\($0))" } ?? "HTTP \(status)"
        }
    }

    /// A typed call's failure.
    static func of(_ error: ServiceError, timeout: Double? = nil) -> String {
        switch error {
        case .unreachable(let error): of(error, timeout: timeout)
        case .problem(let problem) where problem.status == 401 || problem.status == 403:
            of(status: problem.status, body: [])
        case .problem(let problem): "HTTP \(problem.status) (\(problem.detail ?? problem.title))"
        case .invalidResponse(let why): why
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
