import Models

extension EngineState {
    /// Why an agent cannot take a conversation on a channel now.
    enum Ineligibility: CustomStringConvertible {
        case inactive
        case unavailable(Availability)
        case atCapacity(load: Int, capacity: Int, Channel)

        var description: String {
            switch self {
            case .inactive: "inactive"
            case .unavailable(let availability): availability.rawValue
            case .atCapacity(let load, let capacity, let channel): "at capacity (\(load)/\(capacity) \(channel.rawValue))"
            }
        }
    }

    /// Why an agent cannot take a conversation on a channel now, or `nil` when it can (SPEC §5
    /// eligibility: active, available, load below capacity; membership is the caller's concern).
    /// Cheap: the words are only made when a trace line needs them.
    func ineligibility(_ agent: AgentRecord, channel: Channel) -> Ineligibility? {
        if !agent.active { return .inactive }
        if agent.availability != .available { return .unavailable(agent.availability) }
        let load = agent.load[channel]
        let capacity = agent.capacity[channel]
        if load >= capacity { return .atCapacity(load: load, capacity: capacity, channel) }
        return nil
    }

    /// Picks the member of `inbox` to receive a conversation by `strategy`, writing each member
    /// considered and why it was skipped into `trace`. Round robin moves the inbox's pointer.
    mutating func pickMember(
        of inboxID: String, channel: Channel, strategy: Strategy?, trace: inout [TraceStep]
    ) -> String? {
        guard let inbox = inboxes[inboxID] else { return nil }
        let strategy = strategy ?? inbox.strategy
        let members = inbox.memberIDs
        guard !members.isEmpty else {
            trace.append(TraceStep(step: "select", outcome: "inbox \(inboxID) has no members"))
            return nil
        }
        var skipped = SkipLines()
        var chosen: String?
        switch strategy {
        case .roundRobin:
            let start = inbox.pointer.flatMap { members.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            for offset in 0..<members.count {
                let id = members[(start + offset) % members.count]
                guard let agent = agents[id] else { continue }
                if let reason = ineligibility(agent, channel: channel) {
                    skipped.add(id, reason)
                } else {
                    chosen = id
                    break
                }
            }
            if let chosen { inboxes[inboxID]?.pointer = chosen }
        case .leastBusy:
            var best: AgentRecord?
            for id in members {
                guard let agent = agents[id] else { continue }
                if let reason = ineligibility(agent, channel: channel) {
                    skipped.add(id, reason)
                } else if let current = best {
                    let total = agent.load.total
                    if total < current.load.total || (total == current.load.total && agent.lastAssigned < current.lastAssigned) {
                        best = agent
                    }
                } else {
                    best = agent
                }
            }
            chosen = best?.id
        }
        skipped.write(to: &trace)
        if let chosen {
            let load = agents[chosen].map { "\($0.load[channel])/\($0.capacity[channel]) \(channel.rawValue)" } ?? ""
            trace.append(TraceStep(step: "select", outcome: "\(chosen) chosen by \(strategy.rawValue) in inbox \(inboxID) (load \(load))"))
        } else {
            trace.append(TraceStep(step: "select", outcome: "no eligible member of inbox \(inboxID) for \(channel.rawValue)"))
        }
        return chosen
    }

    /// Skip reasons, at most 20 lines so a trace stays readable for a 5,000-agent inbox; the lines
    /// past those are only counted.
    struct SkipLines {
        static let limit = 20
        private var lines: [TraceStep] = []
        private var count = 0

        mutating func add(_ agentID: String, _ reason: Ineligibility) {
            count += 1
            if count <= Self.limit { lines.append(TraceStep(step: "skip", outcome: "\(agentID): \(reason)")) }
        }

        func write(to trace: inout [TraceStep]) {
            trace.append(contentsOf: lines)
            if count > Self.limit { trace.append(TraceStep(step: "skip", outcome: "and \(count - Self.limit) more")) }
        }
    }
}
