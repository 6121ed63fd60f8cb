import ConciergeModels
import Foundation

extension RoutingEngine {
    /// Inboxes newest first (SPEC §2).
    func inboxes() -> [Inbox] {
        read { state in state.inboxes.values.sorted { $0.seq > $1.seq }.map(\.wire) }
    }

    func inbox(_ id: String) throws -> Inbox {
        try read { state in
            guard let inbox = state.inboxes[id] else { throw RoutingError.inboxNotFound(id) }
            return inbox.wire
        }
    }

    func createInbox(_ input: NewInbox) async throws -> Inbox {
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await change { state, tx in
            try Self.checkName(name)
            try Self.checkSender(input.senderName, signature: input.signature)
            let defaultFor = Self.unique(input.defaultFor ?? [])
            try Self.checkDefaults(defaultFor, state: state, except: nil)
            let members = try Self.checkAgents(input.memberIds ?? [], state: state, field: "memberIds")
            let inbox = InboxRecord(
                seq: state.nextSequence(), id: Identifier.make(), name: name, senderName: input.senderName ?? name,
                signature: input.signature ?? "", defaultFor: defaultFor, strategy: input.strategy ?? .roundRobin,
                memberIDs: [], pointer: nil, createdAt: Timestamp.now())  // `join` adds the members
            let agentsBefore = members.compactMap { state.agents[$0]?.wire }
            state.inboxes[inbox.id] = inbox
            try tx.save(inbox)
            try self.join(members, inbox: inbox.id, state: &state, tx)
            try Self.recordUpdates(of: agentsBefore, state: state, tx)
            return state.inboxes[inbox.id]?.wire ?? inbox.wire
        }
    }

    func updateInbox(_ id: String, _ patch: InboxPatch) async throws -> Inbox {
        try await change { state, tx in
            guard var inbox = state.inboxes[id] else { throw RoutingError.inboxNotFound(id) }
            if let name = patch.name {
                inbox.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
                try Self.checkName(inbox.name)
            }
            if let defaultFor = patch.defaultFor {
                inbox.defaultFor = Self.unique(defaultFor)
                try Self.checkDefaults(inbox.defaultFor, state: state, except: id)
            }
            try Self.checkSender(patch.senderName, signature: patch.signature)
            if let senderName = patch.senderName { inbox.senderName = senderName }
            if let signature = patch.signature { inbox.signature = signature }
            if let strategy = patch.strategy { inbox.strategy = strategy }
            state.inboxes[id] = inbox
            try tx.save(inbox)
            return inbox.wire
        }
    }

    /// Replaces the member list; new members' capacity may serve waiting conversations at once.
    func setMembers(_ id: String, _ agentIDs: [String]) async throws -> Inbox {
        try await change { state, tx in
            guard let inbox = state.inboxes[id] else { throw RoutingError.inboxNotFound(id) }
            let members = try Self.checkAgents(agentIDs, state: state, field: "agentIds")
            let agentsBefore = (inbox.memberIDs + members.filter { !inbox.memberIDs.contains($0) }).compactMap {
                state.agents[$0]?.wire
            }
            for agentID in inbox.memberIDs where !members.contains(agentID) {
                state.agents[agentID]?.inboxIDs.removeAll { $0 == id }
            }
            state.inboxes[id]?.memberIDs = []
            try self.join(members, inbox: id, state: &state, tx)
            try state.drain([id], tx)
            try Self.recordUpdates(of: agentsBefore, state: state, tx)
            return state.inboxes[id]?.wire ?? inbox.wire
        }
    }

    /// `agent.updated` for each of these agents (as they were before a membership change) that the
    /// change altered: its `inboxIds`, and its `heroInboxId` when this was its first inbox.
    private static func recordUpdates(of agentsBefore: [Agent], state: EngineState, _ tx: RoutingTransaction) throws {
        for before in agentsBefore {
            guard let after = state.agents[before.id]?.wire, !after.isSame(as: before) else { continue }
            try tx.record(.agentUpdated(after))
        }
    }

    /// Adds agents to an inbox in order; an agent without a hero inbox gets this one.
    private func join(_ agentIDs: [String], inbox id: String, state: inout EngineState, _ tx: RoutingTransaction) throws
    {
        for agentID in agentIDs {
            state.inboxes[id]?.memberIDs.append(agentID)
            guard var agent = state.agents[agentID] else { continue }
            if !agent.inboxIDs.contains(id) { agent.inboxIDs.append(id) }
            if agent.heroInboxID == nil {
                agent.heroInboxID = id
                try tx.save(agent)
            }
            state.agents[agentID] = agent
        }
        if let inbox = state.inboxes[id] { try tx.saveMembers(of: inbox) }
    }

    // MARK: - Queues

    /// Queues newest first (SPEC §2).
    func queues(inboxID: String?) -> [Queue] {
        read { state in
            state.queues.values.filter { inboxID == nil || $0.inboxID == inboxID }.sorted { $0.seq > $1.seq }.map(
                \.wire)
        }
    }

    /// The queue with its waiting conversations in service order. An inbox id names its implicit queue.
    func queue(_ id: String) throws -> Queue {
        try read { state in
            if let queue = state.queues[id] {
                var wire = queue.wire
                wire.waiting = state.waiting(line: id)
                return wire
            }
            if let inbox = state.inboxes[id] {
                return Queue(
                    id: inbox.id, name: "\(inbox.name) (implicit)", inboxId: inbox.id, priority: 0,
                    waiting: state.waiting(line: WaitingLines.implicitKey(inbox.id)))
            }
            throw RoutingError.queueNotFound(id)
        }
    }

    func createQueue(_ input: NewQueue) async throws -> Queue {
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await change { state, tx in
            try Self.checkName(name)
            let inboxID = try Self.checkInbox(input.inboxId, state: state, field: "inboxId")
            let priority = input.priority ?? 0
            guard (-1_000_000...1_000_000).contains(priority) else {
                throw RoutingError.invalid(field: "priority", message: "priority must be from -1000000 to 1000000.")
            }
            let queue = QueueRecord(
                seq: state.nextSequence(), id: Identifier.make(), name: name, inboxID: inboxID, priority: priority)
            state.queues[queue.id] = queue
            state.queueIDsByInbox[inboxID, default: []].append(queue.id)
            try tx.save(queue, createdAt: Timestamp.now())
            return queue.wire
        }
    }

    // MARK: - Validation

    /// The sender name is one line; a signature may span lines (it is appended to replies).
    static func checkSender(_ senderName: String?, signature: String?) throws(RoutingError) {
        if let senderName {
            try checkText(senderName, field: "senderName")
            guard !StoredText.exceeds(senderName, maxLength: 200) else {
                throw .invalid(field: "senderName", message: "senderName must be at most 200 characters.")
            }
        }
        if let signature {
            try checkText(signature, field: "signature", lines: .multiline)
            guard !StoredText.exceeds(signature, maxLength: 2000) else {
                throw .invalid(field: "signature", message: "signature must be at most 2000 characters.")
            }
        }
    }

    static func unique(_ channels: [Channel]) -> [Channel] {
        channels.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    static func checkDefaults(_ channels: [Channel], state: EngineState, except id: String?) throws(RoutingError) {
        for channel in channels {
            if let holder = state.defaultInbox(for: channel), holder.id != id {
                throw .defaultTaken(channel: channel, inboxID: holder.id)
            }
        }
    }

    static func checkAgents(_ ids: [String], state: EngineState, field: String) throws(RoutingError) -> [String] {
        var result: [String] = []
        for (i, id) in ids.enumerated() where !result.contains(id) {
            guard state.agents[id] != nil else {
                throw .invalid(field: "\(field)[\(i)]", message: "No agent has id \(id).")
            }
            result.append(id)
        }
        return result
    }
}
