import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels

/// Checks a dedicated hero with the routing service: the agent must exist and be active, the
/// inbox must exist (SPEC §3). Routing down → 503; routing failing → 502.
struct HeroValidator: Sendable {
    let routing: RoutingClient

    /// The id is one routing could have issued: not empty, no control characters, at most
    /// `ContactLimits.heroIDLength` characters. Checked before the call, so a malformed id is this
    /// request's 400, never a failed call to routing.
    static func checkShape(_ hero: DedicatedHero, field: String) throws(ContactError) {
        guard !hero.id.isEmpty else { throw .invalid(field: field, message: "\(field) must not be empty.") }
        try Identity.checkText(hero.id, field: field)
        try ContactLimits.checkLength(hero.id, ContactLimits.heroIDLength, field: field)
    }

    func validate(_ hero: DedicatedHero) async throws(ContactError) {
        do {
            switch hero.type {
            case .agent:
                let agent = try await routing.agent(hero.id)
                guard agent.active else { throw ContactError.heroInactive(agentID: hero.id) }
            case .inbox:
                _ = try await routing.inbox(hero.id)
            }
        } catch let error as ContactError {
            throw error
        } catch let error as ServiceError {
            switch error {
            case .problem(let problem) where problem.status == 404: throw .heroNotFound(hero)
            case .problem(let problem) where problem.status == 503:
                throw .routingUnavailable(problem.detail ?? "unavailable")
            case .unreachable(let why): throw .routingUnavailable(why.description)
            case .problem, .invalidResponse: throw .routingFailed(error.summary)
            }
        } catch {
            // Nothing else is thrown by the client; its text is not ours to show either way.
            throw .routingFailed("the call failed.")
        }
    }
}
