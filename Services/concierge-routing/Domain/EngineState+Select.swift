import ConciergeModels

extension EngineState {
    /// Why an agent cannot take a conversation on a channel now.
    enum Ineligibility: Equatable, CustomStringConvertible {
        case inactive
        case unavailable(Availability)
        case atCapacity(load: Int, capacity: Int, Channel)

        var description: String {
            switch self {
            case .inactive: "inactive"
            case .unavailable(let availability): availability.rawValue
            case .atCapacity(let load, let capacity, let channel):
                "at capacity (\(load)/\(capacity) \(channel.rawValue))"
            }
        }
    }

    /// Why an agent cannot take a conversation on a channel now, or `nil` when it can (SPEC §5
    /// eligibility: active, available, load below capacity; membership is the caller's concern).
    /// Cheap: the words are only made when a trace line needs them.
    func ineligibility(_ agent: AgentRecord, channel: Channel) -> Ineligibility? {
        Self.ineligibility(
            active: agent.active, availability: agent.availability, load: agent.load[channel],
            capacity: agent.capacity[channel], channel: channel)
    }

    /// `ineligibility` of the agent in `slot`, reading its fields in place (no copy of the record).
    private func ineligibility(slot: Int, channel: Channel) -> Ineligibility? {
        let records = agents.records
        return Self.ineligibility(
            active: records[slot].active, availability: records[slot].availability, load: records[slot].load[channel],
            capacity: records[slot].capacity[channel], channel: channel)
    }

    /// The eligibility rule itself, once.
    private static func ineligibility(
        active: Bool, availability: Availability, load: Int, capacity: Int, channel: Channel
    ) -> Ineligibility? {
        if !active { return .inactive }
        if availability != .available { return .unavailable(availability) }
        if load >= capacity { return .atCapacity(load: load, capacity: capacity, channel) }
        return nil
    }

    /// The slots of the inbox's members in `agents`, made once per change of its members.
    private mutating func memberSlots(of inboxID: String) -> [Int] {
        if let slots = inboxes[inboxID]?.memberSlots { return slots }
        let slots = (inboxes[inboxID]?.memberIDs ?? []).compactMap { agents.slot(of: $0) }
        inboxes[inboxID]?.memberSlots = slots
        return slots
    }

    /// Picks the member of `inbox` to receive a conversation by `strategy`, writing each member
    /// considered and why it was skipped into `trace`. Round robin moves the inbox's pointer.
    mutating func pickMember(
        of inboxID: String, channel: Channel, strategy: Strategy?, trace: inout [TraceStep]
    ) -> String? {
        guard let inbox = inboxes[inboxID] else { return nil }
        let strategy = strategy ?? inbox.strategy
        let members = memberSlots(of: inboxID)
        guard !members.isEmpty else {
            trace.append(TraceStep(step: "select", outcome: "inbox \(inboxID) has no members"))
            return nil
        }
        var skipped = SkipLines()
        var chosen: Int?
        switch strategy {
        case .roundRobin:
            let pointer = inbox.pointer.flatMap { agents.slot(of: $0) }
            let start = pointer.flatMap { members.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            for offset in 0..<members.count {
                let slot = members[(start + offset) % members.count]
                if let reason = ineligibility(slot: slot, channel: channel) {
                    skipped.add(slot, reason, in: &agents)
                } else {
                    chosen = slot
                    break
                }
            }
            if let chosen { inboxes[inboxID]?.pointer = agents[slot: chosen].id }
        case .leastBusy:
            for slot in members {
                if let reason = ineligibility(slot: slot, channel: channel) {
                    skipped.add(slot, reason, in: &agents)
                } else if let best = chosen {
                    let total = agents.records[slot].load.total
                    let bestTotal = agents.records[best].load.total
                    if total < bestTotal
                        || (total == bestTotal && agents.records[slot].lastActivity < agents.records[best].lastActivity)
                    {
                        chosen = slot
                    }
                } else {
                    chosen = slot
                }
            }
        }
        skipped.write(to: &trace)
        guard let chosen else {
            trace.append(
                TraceStep(step: "select", outcome: "no eligible member of inbox \(inboxID) for \(channel.rawValue)"))
            return nil
        }
        let agent = agents[slot: chosen]
        let load = "\(agent.load[channel])/\(agent.capacity[channel]) \(channel.rawValue)"
        trace.append(
            TraceStep(
                step: "select", outcome: "\(agent.id) chosen by \(strategy.rawValue) in inbox \(inboxID) (load \(load))"
            ))
        return agent.id
    }

    /// Skip reasons, at most 20 lines so a trace stays readable for a 5,000-agent inbox; the lines
    /// past those are only counted.
    struct SkipLines {
        static let limit = 20
        private var lines: [TraceStep] = []
        private var count = 0

        mutating func add(_ slot: Int, _ reason: Ineligibility, in agents: inout AgentTable) {
            count += 1
            if count <= Self.limit {
                lines.append(TraceStep(step: "skip", outcome: agents.skipLine(slot: slot, reason)))
            }
        }

        func write(to trace: inout [TraceStep]) {
            trace.append(contentsOf: lines)
            if count > Self.limit { trace.append(TraceStep(step: "skip", outcome: "and \(count - Self.limit) more")) }
        }
    }
}
