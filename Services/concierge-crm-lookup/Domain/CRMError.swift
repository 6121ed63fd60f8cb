import ConciergeModels

/// CRM-lookup failures, each with its problem document.
enum CRMError: Error, ProblemConvertible {
    case customerNotFound(String)
    case sourceNotFound(String)
    case invalid(field: String, message: String)
    case unprocessable(field: String, message: String)
    case identityClash(emailOwner: String, phoneOwner: String)
    case sourceFailed(String, detail: String)
    case sourceSkipped(String)

    var problem: Problem {
        switch self {
        case .customerNotFound(let id): .notFound("Customer", id: id)
        case .sourceNotFound(let name):
            Problem(status: 404, title: "Source not found", detail: "No CRM source is named \(name).")
        case .invalid(let field, let message): .badRequest(message, field: field)
        case .unprocessable(let field, let message):
            .unprocessable(message, errors: [.init(field: field, message: message)])
        case .identityClash(let emailOwner, let phoneOwner):
            Problem(
                status: 409, title: "Email and phone belong to different customers",
                detail: "The email belongs to customer \(emailOwner) and the phone to customer \(phoneOwner).")
        case .sourceFailed(let name, let detail):
            Problem(
                status: 502, title: "CRM source failed",
                detail: "Source \(name) failed and nothing is cached: \(detail)")
        case .sourceSkipped(let name):
            .unavailable("Source \(name) failed 5 times in a row and is skipped for 30 s; nothing is cached.")
        }
    }
}
