import ConciergeModels

extension RoutingEngine {
    /// Runs or resumes the workflow for this request, or `nil` when default routing applies.
    func runWorkflow(_ request: RouteRequest) async throws -> WorkflowRunner.Result? {
        guard workflows.mayRun(request) else { return nil }
        if let paused = try workflows.run(request.conversationId) {
            guard let document = try workflows.document(paused.version) else { return nil }
            return await runner.resume(document, run: paused, answer: request.message.body ?? "")
        }
        // The active version first: without a workflow no request needs the engine's lock here.
        guard request.event != .message, let version = workflows.activeVersion(),
            read({ $0.assignments[request.conversationId] == nil }), let document = try workflows.document(version)
        else { return nil }
        let context = WorkflowContext(
            contact: request.contact, channel: request.channel, messageBody: request.message.body ?? "", variables: [:])
        return await runner.start(document, version: version, context: context)
    }

    /// Places the conversation as the run decided (or pauses it) and records the decision.
    func finish(_ request: RouteRequest, _ run: WorkflowRunner.Result) async throws -> RouteAnswer {
        let answer = try await change { state, tx -> RouteAnswer in
            let conversationID = request.conversationId
            var trace =
                [TraceStep(step: "event", outcome: "\(request.event.rawValue) \(request.channel.rawValue) message")]
                + run.trace
            let previous = state.assignments[conversationID]
            var record: AssignmentRecord?
            var paused = false
            switch run.outcome {
            case .pause(let waiting):
                try state.release(conversationID, tx)
                try tx.saveRun(conversationID: conversationID, waiting)
                paused = true
            case .assign(let target):
                try tx.deleteRun(conversationID: conversationID)
                let placement = state.target(
                    for: target, contact: run.context.contact, channel: request.channel, trace: &trace)
                record = try state.place(conversationID, channel: request.channel, target: placement, trace: &trace, tx)
            case .fallback:
                try tx.deleteRun(conversationID: conversationID)
                let placement = state.heroOrDefaultTarget(
                    run.context.contact.dedicatedHero, channel: request.channel, trace: &trace)
                record = try state.place(conversationID, channel: request.channel, target: placement, trace: &trace, tx)
            }
            var result = state.result(
                conversationID, record, trace: trace, replies: run.replies, version: state.nextVersion())
            result.tags = run.tags
            if paused { result.routingState = .awaitingCustomer }
            let json = try tx.saveDecision(result, answering: request.message.id)
            if let agentID = previous?.agentID, agentID != record?.agentID, let agent = state.agents[agentID] {
                try state.drain(agent.inboxIDs, tx)
            }
            return RouteAnswer(result: result, json: json)
        }
        workflows.remember(paused: request.conversationId, answer.result.routingState == .awaitingCustomer)
        return answer
    }
}

extension EngineState {
    /// Where a workflow's `assign` step sends the conversation; ids that vanished since the
    /// workflow was saved fall back to default routing, with the reason in the trace.
    func target(
        for target: WorkflowStep.AssignTarget, contact: RouteContact, channel: Channel, trace: inout [TraceStep]
    ) -> Target {
        switch target {
        case .dedicatedHero:
            return heroOrDefaultTarget(contact.dedicatedHero, channel: channel, trace: &trace)
        case .agent(let id):
            guard let agent = agents[id], agent.active else {
                trace.append(TraceStep(step: "assign", outcome: "agent \(id) is missing or inactive; default routing"))
                return heroOrDefaultTarget(contact.dedicatedHero, channel: channel, trace: &trace)
            }
            return .agent(id, inboxID: agent.heroInboxID ?? defaultInbox(for: channel)?.id)
        case .inbox(let id, let strategy):
            guard inboxes[id] != nil else {
                trace.append(TraceStep(step: "assign", outcome: "inbox \(id) no longer exists; default routing"))
                return defaultTarget(channel, trace: &trace)
            }
            return .inbox(id, strategy: strategy, queueID: nil)
        case .queue(let id):
            guard let queue = queues[id] else {
                trace.append(TraceStep(step: "assign", outcome: "queue \(id) no longer exists; default routing"))
                return defaultTarget(channel, trace: &trace)
            }
            return .inbox(queue.inboxID, strategy: nil, queueID: id)
        }
    }

    /// Ids a new workflow may point at.
    var knownIDs: WorkflowParser.Known {
        WorkflowParser.Known(agents: Set(agents.keys), inboxes: Set(inboxes.keys), queues: Set(queues.keys))
    }
}
