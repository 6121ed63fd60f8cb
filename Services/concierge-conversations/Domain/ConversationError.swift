import ConciergeModels

/// Conversation failures, each with its problem document.
enum ConversationError: Error, ProblemConvertible {
    case notFound(String)
    case closed(String)
    case alreadyClosed(String)
    case noHero(contactID: String)
    case invalid(field: String, message: String)
    case dependencyDown(service: String, detail: String)
    case dependencyFailed(service: String, detail: String)
    case spamForbidden
    case messageNotFound(String)
    /// A delivery report for a message the customer sent.
    case notOutbound(String)
    /// A delivery report that would take a message's delivery back (`failed` after `delivered`).
    case deliveryBackwards(messageID: String, from: MessageDelivery.Status, to: MessageDelivery.Status)

    var problem: Problem {
        switch self {
        case .notFound(let id): .notFound("Conversation", id: id)
        case .closed(let id):
            .conflict("Conversation closed", detail: "Conversation \(id) is closed; a customer message reopens it.")
        case .alreadyClosed(let id): .conflict("Conversation closed", detail: "Conversation \(id) is already closed.")
        case .noHero(let contact):
            .conflict("No dedicated hero", detail: "Contact \(contact) has no dedicated hero.")
        case .invalid(let field, let message): .badRequest(message, field: field)
        case .dependencyDown(let service, let detail):
            .unavailable("The \(service) service cannot be reached: \(detail)")
        case .dependencyFailed(let service, let detail):
            Problem(status: 502, title: "Bad gateway", detail: "The \(service) service failed: \(detail)")
        case .spamForbidden:
            Problem(status: 403, title: "Forbidden", detail: "Only team managers and administrators may read spam.")
        case .messageNotFound(let id): .notFound("Message", id: id)
        case .notOutbound(let id):
            .conflict(
                "Not an outbound message",
                detail: "Message \(id) came from the customer; only messages to the customer have a delivery.")
        case .deliveryBackwards(let id, let from, let to):
            .conflict(
                "Delivery cannot go back",
                detail: "Message \(id) is already \(from.rawValue); it cannot become \(to.rawValue).")
        }
    }
}
