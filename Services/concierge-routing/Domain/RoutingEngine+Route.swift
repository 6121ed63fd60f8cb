import ConciergeModels

extension RoutingEngine {
    /// `POST /v1/route`: decides where the conversation goes, idempotent on (conversation, message).
    /// With an active workflow, new and reopened conversations run it, and a paused run resumes
    /// with the customer's message; otherwise default routing (hero, else the channel's default inbox).
    func route(_ request: RouteRequest) async throws -> RouteAnswer {
        let answer = try await gate.run(request.conversationId) { () async throws -> RouteAnswer in
            // Without a workflow to run, the retry check is the first step of the decision's own
            // transaction: no read transaction of its own (a reader re-reads every page it needs
            // after each commit: BENCHMARKS.md, "Routing decisions", "the retry check").
            guard workflows.mayRun(request) else { return try await routeByDefault(request, checkingRetry: true) }
            // A workflow may await CRM lookups, so a retry is answered before it runs.
            if let earlier = try store.routeRequest(
                conversationID: request.conversationId, messageID: request.message.id)
            {
                return earlier
            }
            if let run = try await runWorkflow(request) { return try await finish(request, run) }
            return try await routeByDefault(request, checkingRetry: false)
        }
        count(answer.result)
        return answer
    }

    /// Default routing and the events that re-place a conversation (moved, rerouted). With
    /// `checkingRetry`, an earlier answer to the same message is returned instead, changing nothing.
    private func routeByDefault(_ request: RouteRequest, checkingRetry: Bool) async throws -> RouteAnswer {
        let answer = try await change { state, tx -> RouteAnswer in
            if checkingRetry,
                let earlier = try tx.routeRequest(conversationID: request.conversationId, messageID: request.message.id)
            {
                return earlier
            }
            if let inboxID = request.inboxId, state.inboxes[inboxID] == nil {
                throw RoutingError.invalid(field: "inboxId", message: "No inbox has id \(inboxID).")
            }
            var trace = [
                TraceStep(step: "event", outcome: "\(request.event.rawValue) \(request.channel.rawValue) message")
            ]
            let current = state.assignments[request.conversationId]
            let record: AssignmentRecord?
            switch request.event {
            case .new, .reopened, .message:
                if let current {
                    // Routing already holds this conversation; a customer message does not move it.
                    trace.append(TraceStep(step: "unchanged", outcome: "already \(current.state.rawValue)"))
                    // Nothing changed, so nothing is recorded: a retry finds the same state again.
                    let result = state.result(request.conversationId, current, trace: trace)
                    return RouteAnswer(result: result, json: try JSONCoding.encode(result))
                }
                let target = state.heroOrDefaultTarget(
                    request.contact.dedicatedHero, channel: request.channel, trace: &trace)
                record = try state.place(
                    request.conversationId, channel: request.channel, target: target, trace: &trace, tx)
            case .moved, .rerouted:
                let inboxID = request.inboxId ?? current?.inboxID
                let target: EngineState.Target =
                    inboxID.map { .inbox($0, strategy: nil, queueID: nil) }
                    ?? state.defaultTarget(request.channel, trace: &trace)
                let previous = try state.release(request.conversationId, tx)
                try tx.deleteRun(conversationID: request.conversationId)
                record = try state.place(
                    request.conversationId, channel: request.channel, target: target, trace: &trace, tx)
                if let agentID = previous?.agentID, agentID != record?.agentID, let agent = state.agents[agentID] {
                    try state.drain(agent.inboxIDs, tx)
                }
            }
            let result = state.result(request.conversationId, record, trace: trace, version: state.nextVersion())
            return RouteAnswer(result: result, json: try tx.saveDecision(result, answering: request.message.id))
        }
        if request.event == .moved || request.event == .rerouted {
            workflows.remember(paused: request.conversationId, false)
        }
        return answer
    }

    /// `POST /v1/assignments/{id}/release`: the conversation closed; its agent's capacity returns
    /// and waiting conversations may take it.
    func release(_ conversationID: String) async throws -> RouteResult {
        let result = try await change { state, tx in
            let previous = try state.release(conversationID, tx)
            try tx.deleteRun(conversationID: conversationID)
            let trace = [
                TraceStep(
                    step: "release", outcome: previous.map { "released from \($0.state.rawValue)" } ?? "nothing held")
            ]
            let result = state.result(conversationID, nil, trace: trace, version: state.nextVersion())
            // Releasing what routing did not hold changes nothing: no `routing.decided`.
            try tx.saveDecision(result, isChange: previous != nil)
            if let agentID = previous?.agentID, let agent = state.agents[agentID] {
                try state.drain(agent.inboxIDs, tx)
            }
            return result
        }
        workflows.remember(paused: conversationID, false)
        return result
    }

    /// `POST /v1/assignments/{id}/assign`: a manual transfer to any active agent, capacity notwithstanding.
    /// It ends a workflow run that was waiting for the customer: the agent has the conversation now.
    func transfer(_ conversationID: String, _ input: AssignRequest) async throws -> RouteResult {
        let result = try await change { state, tx in
            guard let agent = state.agents[input.agentId] else {
                throw RoutingError.invalid(field: "agentId", message: "No agent has id \(input.agentId).")
            }
            guard agent.active else { throw RoutingError.agentInactive(agent.id) }
            if let inboxID = input.inboxId, state.inboxes[inboxID] == nil {
                throw RoutingError.invalid(field: "inboxId", message: "No inbox has id \(inboxID).")
            }
            let current = state.assignments[conversationID]
            guard let channel = input.channel ?? current?.channel else {
                throw RoutingError.invalid(
                    field: "channel", message: "channel is required for a conversation routing has not seen.")
            }
            let inboxID = input.inboxId ?? current?.inboxID ?? agent.heroInboxID ?? state.defaultInbox(for: channel)?.id
            var trace = [TraceStep(step: "transfer", outcome: "manual transfer to agent \(agent.id)")]
            let previous = current?.agentID
            let record = try state.place(
                conversationID, channel: channel, target: .agent(agent.id, inboxID: inboxID), trace: &trace, tx)
            try tx.deleteRun(conversationID: conversationID)
            let result = state.result(conversationID, record, trace: trace)
            try tx.saveDecision(result)
            if let previous, previous != agent.id, let old = state.agents[previous] {
                try state.drain(old.inboxIDs, tx)
            }
            return result
        }
        workflows.remember(paused: conversationID, false)
        return result
    }

    func decision(_ conversationID: String) throws -> RouteResult {
        guard let result = try store.decision(conversationID) else { throw RoutingError.routeNotFound(conversationID) }
        return result
    }
}
