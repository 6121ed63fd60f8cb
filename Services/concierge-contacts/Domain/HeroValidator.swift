import Clients
import Models

/// Checks a dedicated hero with the routing service: the agent must exist and be active, the
/// inbox must exist (SPEC §3). Routing down → 503; routing failing → 502.
struct HeroValidator: Sendable {
    let routing: RoutingClient

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
            case .problem(let problem) where problem.status == 503: throw .routingUnavailable(problem.detail ?? "unavailable")
            case .unreachable(let why): throw .routingUnavailable(why.description)
            default: throw .routingFailed(error.description)
            }
        } catch {
            throw .routingFailed("\(error)")
        }
    }
}
