import ConciergeModels

extension EngineState {
    /// Where a routing rule sends a conversation.
    enum Target {
        /// Straight to this agent (hero, manual transfer, workflow `{"agent"}`), filed under `inboxID`.
        case agent(String, inboxID: String?)
        /// An eligible member of the inbox by strategy, else its implicit queue or the given queue.
        case inbox(String, strategy: Strategy?, queueID: String?)
        /// Nowhere: no rule applies and the channel has no default inbox.
        case nowhere
    }

    /// Places the conversation per `target`, persisting the assignment; `nil` means unassigned.
    mutating func place(
        _ conversationID: String, channel: Channel, target: Target, trace: inout [TraceStep], _ tx: RoutingTransaction
    ) throws -> AssignmentRecord? {
        switch target {
        case .agent(let agentID, let inboxID):
            trace.append(TraceStep(step: "assign", outcome: "assigned to agent \(agentID)"))
            return try assign(conversationID, to: agentID, inboxID: inboxID, channel: channel, tx)
        case .inbox(let inboxID, let strategy, let queueID):
            if let agentID = pickMember(of: inboxID, channel: channel, strategy: strategy, trace: &trace) {
                if let inbox = inboxes[inboxID], inbox.strategy == .roundRobin || strategy == .roundRobin {
                    try tx.savePointer(inboxID: inboxID, pointer: inbox.pointer)
                }
                return try assign(conversationID, to: agentID, inboxID: inboxID, channel: channel, tx)
            }
            let queueName = queueID.map { "queue \($0)" } ?? "the implicit queue of inbox \(inboxID)"
            trace.append(TraceStep(step: "queue", outcome: "waiting in \(queueName)"))
            return try enqueue(conversationID, inboxID: inboxID, queueID: queueID, channel: channel, tx)
        case .nowhere:
            try release(conversationID, tx)
            trace.append(
                TraceStep(step: "unassigned", outcome: "no rule applies and \(channel.rawValue) has no default inbox"))
            return nil
        }
    }

    /// The channel's default inbox as a target, or nowhere.
    func defaultTarget(_ channel: Channel, trace: inout [TraceStep]) -> Target {
        guard let inbox = defaultInbox(for: channel) else { return .nowhere }
        trace.append(
            TraceStep(step: "defaultInbox", outcome: "\(channel.rawValue) goes to its default inbox \(inbox.id)"))
        return .inbox(inbox.id, strategy: nil, queueID: nil)
    }

    /// Default routing (no workflow): the dedicated hero exactly as SPEC §5 says, else the channel's default inbox.
    /// A hero agent gets the conversation when eligible, and email or voicemail whatever its availability or
    /// load while it is active; otherwise voice goes to the default voice inbox and the rest to its hero inbox.
    /// A hero inbox picks a member by its strategy.
    func heroOrDefaultTarget(_ hero: DedicatedHero?, channel: Channel, trace: inout [TraceStep]) -> Target {
        guard let hero else {
            trace.append(TraceStep(step: "dedicatedHero", outcome: "contact has no dedicated hero"))
            return defaultTarget(channel, trace: &trace)
        }
        switch hero.type {
        case .inbox:
            guard inboxes[hero.id] != nil else {
                trace.append(TraceStep(step: "dedicatedHero", outcome: "hero inbox \(hero.id) does not exist"))
                return defaultTarget(channel, trace: &trace)
            }
            trace.append(TraceStep(step: "dedicatedHero", outcome: "hero team inbox \(hero.id)"))
            return .inbox(hero.id, strategy: nil, queueID: nil)
        case .agent:
            guard let agent = agents[hero.id] else {
                trace.append(TraceStep(step: "dedicatedHero", outcome: "hero agent \(hero.id) does not exist"))
                return defaultTarget(channel, trace: &trace)
            }
            let home = agent.heroInboxID ?? defaultInbox(for: channel)?.id
            guard let reason = ineligibility(agent, channel: channel) else {
                trace.append(TraceStep(step: "dedicatedHero", outcome: "hero agent \(agent.id) is eligible"))
                return .agent(agent.id, inboxID: home)
            }
            if agent.active && (channel == .email || channel == .voicemail) {
                trace.append(
                    TraceStep(
                        step: "dedicatedHero",
                        outcome: "hero agent \(agent.id) is \(reason); \(channel.rawValue) goes to the hero regardless")
                )
                return .agent(agent.id, inboxID: home)
            }
            if channel == .voice {
                trace.append(
                    TraceStep(
                        step: "dedicatedHero",
                        outcome: "hero agent \(agent.id) is \(reason); voice falls back to the default voice inbox"))
                guard let voice = defaultInbox(for: .voice) else { return .nowhere }
                return .inbox(voice.id, strategy: nil, queueID: nil)
            }
            guard let heroInbox = agent.heroInboxID, inboxes[heroInbox] != nil else {
                trace.append(
                    TraceStep(
                        step: "dedicatedHero", outcome: "hero agent \(agent.id) is \(reason) and has no hero inbox"))
                return defaultTarget(channel, trace: &trace)
            }
            trace.append(
                TraceStep(
                    step: "dedicatedHero",
                    outcome: "hero agent \(agent.id) is \(reason); \(channel.rawValue) goes to hero inbox \(heroInbox)")
            )
            return .inbox(heroInbox, strategy: nil, queueID: nil)
        }
    }
}
