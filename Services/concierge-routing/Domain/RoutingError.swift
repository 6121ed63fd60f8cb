import ConciergeModels

/// Routing failures, each with its problem document.
enum RoutingError: Error, ProblemConvertible {
    case agentNotFound(String)
    case inboxNotFound(String)
    case queueNotFound(String)
    case routeNotFound(String)
    case invalid(field: String, message: String)
    case duplicateEmail(String, ownerID: String)
    case defaultTaken(channel: Channel, inboxID: String)
    case notYourAvailability
    case agentInactive(String)

    var problem: Problem {
        switch self {
        case .agentNotFound(let id): .notFound("Agent", id: id)
        case .inboxNotFound(let id): .notFound("Inbox", id: id)
        case .queueNotFound(let id): .notFound("Queue", id: id)
        case .routeNotFound(let id):
            Problem(
                status: 404, title: "No routing decision",
                detail: "Routing has made no decision for conversation \(id).")
        case .invalid(let field, let message): .unprocessable(message, errors: [.init(field: field, message: message)])
        case .duplicateEmail(let email, let owner):
            Problem(
                status: 409, title: "Email already in use", detail: "\(email) belongs to agent \(owner).",
                errors: [.init(field: "email", message: "belongs to agent \(owner)")])
        case .defaultTaken(let channel, let inbox):
            Problem(
                status: 409, title: "Default inbox already set",
                detail: "Inbox \(inbox) is already the default for \(channel.rawValue); change it there first.",
                errors: [.init(field: "defaultFor", message: "\(channel.rawValue) already defaults to inbox \(inbox)")])
        case .notYourAvailability:
            Problem(status: 403, title: "Forbidden", detail: "Agents may set only their own availability.")
        case .agentInactive(let id):
            .unprocessable(
                "Agent \(id) is deactivated.", errors: [.init(field: "agentId", message: "agent is not active")])
        }
    }
}
