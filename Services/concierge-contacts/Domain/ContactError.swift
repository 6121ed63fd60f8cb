import ConciergeModels

/// Everything that can go wrong with a contact request, each with its problem document.
enum ContactError: Error, Equatable, ProblemConvertible {
    case notFound(id: String)
    case invalid(field: String, message: String)
    case identityTaken(field: String, value: String, ownerID: String)
    case alreadyMerged(id: String)
    case mergeIntoSelf
    case mergeTooLarge(field: String, count: Int, limit: Int)
    case heroNotFound(DedicatedHero)
    case heroInactive(agentID: String)
    case routingUnavailable(String)
    case routingFailed(String)
    case badCursor

    var problem: Problem {
        switch self {
        case .notFound(let id):
            .notFound("Contact", id: id)
        case .invalid(let field, let message):
            .badRequest(message, field: field)
        case .identityTaken(let field, let value, let owner):
            Problem(
                status: 409, title: "Identity already in use", detail: "\(value) belongs to contact \(owner).",
                errors: [.init(field: field, message: "belongs to contact \(owner)")])
        case .alreadyMerged(let id):
            .conflict("Contact already merged", detail: "Contact \(id) has been merged into another contact.")
        case .mergeIntoSelf:
            Problem(
                status: 422, title: "Unprocessable content", detail: "A contact cannot be merged into itself.",
                errors: [.init(field: "sourceId", message: "must differ from the target contact")])
        case .mergeTooLarge(let field, let count, let limit):
            Problem(
                status: 422, title: "Unprocessable content",
                detail:
                    "The merged contact would have \(count) \(field), more than the \(limit) a contact may have; nothing was merged.",
                errors: [.init(field: field, message: "at most \(limit) items after the merge")])
        case .heroNotFound(let hero):
            Problem(
                status: 422, title: "Unknown dedicated hero", detail: "No \(hero.type.rawValue) has id \(hero.id).",
                errors: [.init(field: "id", message: "no \(hero.type.rawValue) with this id")])
        case .heroInactive(let id):
            Problem(
                status: 422, title: "Inactive dedicated hero", detail: "Agent \(id) is deactivated.",
                errors: [.init(field: "id", message: "agent is not active")])
        case .routingUnavailable(let why):
            .unavailable("The routing service cannot be reached to check the hero: \(why)")
        case .routingFailed(let why):
            Problem(status: 502, title: "Bad gateway", detail: "The routing service failed: \(why)")
        case .badCursor:
            .badRequest("The cursor is not one this service issued.", field: "cursor")
        }
    }
}
