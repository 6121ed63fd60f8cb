import ConciergeJSON
import ConciergeModels

/// What routing tells the outside (SPEC §9), as its changes decide it: each event carries the
/// resource as it is after the change — the JSON its `GET` answers — and the agent who may see it
/// besides managers, administrators and services.
enum RoutingEvent {
    case agentCreated(Agent)
    /// Anything about the agent changed by an administrator (`PATCH`) or by inbox membership.
    case agentUpdated(Agent)
    case availabilityChanged(Agent, previous: Availability)
    case agentDeactivated(Agent)
    case agentReactivated(Agent)
    /// A decision as `GET /v1/routes/{conversationId}` answers it, with `json` its encoding (the
    /// bytes already stored for it, so a decision is encoded once).
    case decided(RouteResult, json: [UInt8], packed: [UInt8])
    /// The new active workflow as `GET /v1/workflow` answers it.
    case workflowPublished(JSONValue)

    var type: String {
        switch self {
        case .agentCreated: "agent.created"
        case .agentUpdated: "agent.updated"
        case .availabilityChanged: "agent.availability_changed"
        case .agentDeactivated: "agent.deactivated"
        case .agentReactivated: "agent.reactivated"
        case .decided: "routing.decided"
        case .workflowPublished: "workflow.published"
        }
    }

    /// The agent whose record it is, or the decision's assignee; nobody below a team manager for an
    /// unassigned decision or a workflow.
    var audience: String? {
        switch self {
        case .agentCreated(let agent), .agentUpdated(let agent), .availabilityChanged(let agent, _),
            .agentDeactivated(let agent), .agentReactivated(let agent):
            agent.id
        case .decided(let result, _, _): result.assigneeId
        case .workflowPublished: nil
        }
    }

    /// The event's `data`.
    func data() throws -> [UInt8] {
        switch self {
        case .agentCreated(let agent), .agentUpdated(let agent), .agentDeactivated(let agent),
            .agentReactivated(let agent):
            try JSONCoding.encode(agent)
        case .availabilityChanged(let agent, let previous):
            try JSONCoding.encode(AvailabilityChange(agent: agent, previousAvailability: previous))
        case .decided(_, let json, _): json
        case .workflowPublished(let workflow): try JSONCoding.encode(workflow)
        }
    }
}

/// `agent.availability_changed`'s data: the agent's fields, then `previousAvailability`.
private struct AvailabilityChange: Encodable {
    let agent: Agent
    let previousAvailability: Availability

    private enum CodingKeys: String, CodingKey { case previousAvailability }

    func encode(to encoder: any Encoder) throws {
        try agent.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(previousAvailability, forKey: .previousAvailability)
    }
}

extension Agent {
    /// Whether `other` has the same fields as this agent, load aside: load follows assignments, which
    /// are told as `routing.decided`, not as changes of the agent.
    func isSame(as other: Agent) -> Bool {
        var other = other
        other.load = load
        return self == other
    }
}
