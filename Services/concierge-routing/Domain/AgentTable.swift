import ConciergeModels

/// Every agent, by id, kept in one array: an agent's slot (its index) never changes, because agents
/// are deactivated, never removed. Picking a member of an inbox reads the members' slots straight
/// from the array, where looking each one up by id cost a string hash and compare and a copy of the
/// whole record per member — with 25 members, the largest share of a routing decision's CPU
/// (`Benchmarks/routing.sh`; BENCHMARKS.md, "picking a member").
struct AgentTable: Sendable {
    private(set) var records: [AgentRecord] = []
    private var slots: [String: Int] = [:]
    /// The last skip line made for each slot and what it said (see `skipLine`).
    private var skipLines: [SkipLine?] = []

    private struct SkipLine: Sendable {
        let reason: EngineState.Ineligibility
        let text: String
    }

    var values: [AgentRecord] { records }
    var keys: Dictionary<String, Int>.Keys { slots.keys }

    func slot(of id: String) -> Int? { slots[id] }

    /// The agent with this id; setting a record adds or replaces it (removing one is not possible).
    subscript(id: String) -> AgentRecord? {
        get { slots[id].map { records[$0] } }
        set {
            guard let newValue else { preconditionFailure("agents are never removed") }
            precondition(newValue.id == id, "an agent's id never changes")
            if let slot = slots[id] {
                records[slot] = newValue
            } else {
                slots[id] = records.count
                records.append(newValue)
                skipLines.append(nil)
            }
        }
    }

    subscript(slot slot: Int) -> AgentRecord {
        get { records[slot] }
        _modify { yield &records[slot] }
    }

    /// "<agent id>: <reason>" for a trace, made again only when the reason changed since the last
    /// time this agent was skipped: a busy inbox skips the same members for the same reason over and
    /// over, and making the line was a tenth of a decision's CPU (measured; see BENCHMARKS.md).
    mutating func skipLine(slot: Int, _ reason: EngineState.Ineligibility) -> String {
        if let memo = skipLines[slot], memo.reason == reason { return memo.text }
        let text = records[slot].id + ": " + reason.description
        skipLines[slot] = SkipLine(reason: reason, text: text)
        return text
    }
}
