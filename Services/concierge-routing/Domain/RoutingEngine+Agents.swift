import ConciergeModels
import Foundation
import ServiceRuntime

extension RoutingEngine {
    /// Agents newest first (SPEC §2: lists are newest first unless said); `cursor` is the `seq` of the
    /// last agent of the previous page, so the next page holds those created before it.
    func agents(inboxID: String?, limit: Int, before cursor: Int64?) -> ([Agent], next: String?) {
        read { state in
            let all = state.agents.values.filter { agent in
                (inboxID.map { agent.inboxIDs.contains($0) } ?? true) && agent.seq < (cursor ?? .max)
            }.sorted { $0.seq > $1.seq }
            let page = all.prefix(limit)
            return (page.map(\.wire), all.count > limit ? page.last.map { String($0.seq) } : nil)
        }
    }

    func agent(_ id: String) throws -> Agent {
        try read { state in
            guard let agent = state.agents[id] else { throw RoutingError.agentNotFound(id) }
            return agent.wire
        }
    }

    func createAgent(_ input: NewAgent) async throws -> Agent {
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let email = input.email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return try await change { state, tx in
            try Self.checkName(name)
            try Self.checkEmail(email)
            if let owner = state.agentIDByEmail[email] { throw RoutingError.duplicateEmail(email, ownerID: owner) }
            if input.role == .service {
                throw RoutingError.invalid(field: "role", message: "role must be agent, team_manager or administrator.")
            }
            let inboxIDs = try Self.checkInboxes(input.inboxIds ?? [], state: state, field: "inboxIds")
            var capacity = ChannelCounts.defaultCapacity
            try Self.apply(input.capacity, to: &capacity)
            let heroInboxID =
                try input.heroInboxId.map { try Self.checkInbox($0, state: state, field: "heroInboxId") }
                ?? inboxIDs.first
            let agent = AgentRecord(
                seq: state.nextSequence(), id: Identifier.make(), name: name, email: email,
                role: input.role ?? .agent, active: true, availability: input.availability ?? .available,
                inboxIDs: inboxIDs,
                heroInboxID: heroInboxID, capacity: capacity, load: ChannelCounts(), lastActivity: 0,
                createdAt: Timestamp.now())
            state.agents[agent.id] = agent
            state.agentIDByEmail[email] = agent.id
            try tx.save(agent)
            for inboxID in inboxIDs {
                state.inboxes[inboxID]?.memberIDs.append(agent.id)
                if let inbox = state.inboxes[inboxID] { try tx.saveMembers(of: inbox) }
            }
            try state.drain(inboxIDs, tx)
            let created = state.agents[agent.id]?.wire ?? agent.wire
            try tx.record(.agentCreated(created))
            return created
        }
    }

    func updateAgent(_ id: String, _ patch: AgentPatch) async throws -> Agent {
        try await change { state, tx in
            guard var agent = state.agents[id] else { throw RoutingError.agentNotFound(id) }
            let before = agent.wire
            var newEmail: String?
            if let name = patch.name {
                agent.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
                try Self.checkName(agent.name)
            }
            if let email = patch.email?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(),
                email != agent.email
            {
                try Self.checkEmail(email)
                if let owner = state.agentIDByEmail[email] { throw RoutingError.duplicateEmail(email, ownerID: owner) }
                newEmail = email
            }
            if let role = patch.role {
                guard role != .service else {
                    throw RoutingError.invalid(
                        field: "role", message: "role must be agent, team_manager or administrator.")
                }
                agent.role = role
            }
            try Self.apply(patch.capacity, to: &agent.capacity)
            let inboxIDs = try patch.inboxIds.map { try Self.checkInboxes($0, state: state, field: "inboxIds") }
            if let hero = patch.heroInboxId {
                agent.heroInboxID = try Self.checkInbox(hero, state: state, field: "heroInboxId")
            }
            let isBackAtWork = patch.availability == .available && agent.availability != .available
            if let availability = patch.availability { agent.availability = availability }
            // Validation is done; from here the state changes.
            // Back at work: idle from now, for least_busy's ties — as through PUT …/availability.
            if isBackAtWork { agent.lastActivity = state.nextVersion() }
            if let newEmail {
                state.agentIDByEmail[agent.email] = nil
                state.agentIDByEmail[newEmail] = agent.id
                agent.email = newEmail
            }
            var touched = Set(agent.inboxIDs)
            if let inboxIDs {
                for inboxID in agent.inboxIDs where !inboxIDs.contains(inboxID) {
                    state.inboxes[inboxID]?.memberIDs.removeAll { $0 == id }
                }
                for inboxID in inboxIDs where !agent.inboxIDs.contains(inboxID) {
                    state.inboxes[inboxID]?.memberIDs.append(id)
                }
                for inboxID in touched.union(inboxIDs) {
                    if let inbox = state.inboxes[inboxID] { try tx.saveMembers(of: inbox) }
                }
                agent.inboxIDs = inboxIDs
                if agent.heroInboxID == nil { agent.heroInboxID = inboxIDs.first }
                touched.formUnion(inboxIDs)
            }
            state.agents[id] = agent
            try tx.save(agent)
            try state.drain(touched, tx)
            let updated = state.agents[id]?.wire ?? agent.wire
            if !updated.isSame(as: before) { try tx.record(.agentUpdated(updated)) }
            if updated.availability != before.availability {
                try tx.record(.availabilityChanged(updated, previous: before.availability))
            }
            return updated
        }
    }

    func setAvailability(_ id: String, _ availability: Availability) async throws -> Agent {
        try await change { state, tx in
            guard var agent = state.agents[id] else { throw RoutingError.agentNotFound(id) }
            let previous = agent.availability
            // Back at work: idle from now, for least_busy's ties.
            if availability == .available && previous != .available {
                agent.lastActivity = state.nextVersion()
            }
            agent.availability = availability
            state.agents[id] = agent
            try tx.save(agent)
            if availability == .available { try state.drain(agent.inboxIDs, tx) }
            let changed = state.agents[id]?.wire ?? agent.wire
            if availability != previous { try tx.record(.availabilityChanged(changed, previous: previous)) }
            return changed
        }
    }

    /// SPEC §5 deactivation: (a) the agent's hero contacts get its hero inbox (contacts service,
    /// outbox); (b) each of its open conversations is routed again within its current inbox.
    func deactivate(_ id: String) async throws -> Agent {
        let agent = try await change { state, tx in
            guard var agent = state.agents[id] else { throw RoutingError.agentNotFound(id) }
            guard agent.active else { return agent.wire }
            agent.active = false
            state.agents[id] = agent
            try tx.save(agent)
            if let heroInbox = agent.heroInboxID {
                try tx.handOverHeroCustomers((AgentHeroHandover(agentId: id, heroInboxId: heroInbox)))
            }
            let open = state.assignments.values.filter { $0.agentID == id && $0.state == .assigned }.sorted {
                $0.version < $1.version
            }
            for assignment in open {
                var trace = [TraceStep(step: "deactivation", outcome: "agent \(id) was deactivated; routing again")]
                let target: EngineState.Target =
                    assignment.inboxID.map { .inbox($0, strategy: nil, queueID: nil) }
                    ?? state.defaultTarget(assignment.channel, trace: &trace)
                let record = try state.place(
                    assignment.conversationID, channel: assignment.channel, target: target, trace: &trace, tx)
                let result = state.result(assignment.conversationID, record, trace: trace)
                try tx.announce(result)
            }
            let deactivated = state.agents[id]?.wire ?? agent.wire
            try tx.record(.agentDeactivated(deactivated))
            return deactivated
        }
        setInactive(id, true)
        return agent
    }

    func reactivate(_ id: String) async throws -> Agent {
        let agent = try await change { state, tx in
            guard var agent = state.agents[id] else { throw RoutingError.agentNotFound(id) }
            guard !agent.active else { return agent.wire }
            agent.active = true
            state.agents[id] = agent
            try tx.save(agent)
            try state.drain(agent.inboxIDs, tx)
            let reactivated = state.agents[id]?.wire ?? agent.wire
            try tx.record(.agentReactivated(reactivated))
            return reactivated
        }
        setInactive(id, false)
        return agent
    }

    var deactivatedAgentIDs: [String] {
        read { state in state.agents.values.filter { !$0.active }.map(\.id).sorted() }
    }

    // MARK: - Validation

    static func checkName(_ name: String) throws(RoutingError) {
        guard !name.isEmpty, name.count <= 200 else {
            throw .invalid(field: "name", message: "name must be 1 to 200 characters.")
        }
        try checkText(name, field: "name")
    }

    /// `StoredText`'s check, as every service runs it on what it stores.
    static func checkText(_ text: String, field: String, lines: StoredText.Lines = .single) throws(RoutingError) {
        guard StoredText.isAllowed(text, lines: lines) else {
            throw .invalid(field: field, message: StoredText.refusal(field: field, lines: lines))
        }
    }

    /// The contacts service's rules for an email (`Addresses.email`), so an agent's address is one a
    /// contact could have.
    static func checkEmail(_ email: String) throws(RoutingError) {
        guard Addresses.email(email) != nil else {
            throw .invalid(field: "email", message: "email is not a valid email address.")
        }
    }

    static func checkInbox(_ id: String, state: EngineState, field: String) throws(RoutingError) -> String {
        guard state.inboxes[id] != nil else { throw .invalid(field: field, message: "No inbox has id \(id).") }
        return id
    }

    static func checkInboxes(_ ids: [String], state: EngineState, field: String) throws(RoutingError) -> [String] {
        var result: [String] = []
        for (i, id) in ids.enumerated() where !result.contains(id) {
            result.append(try checkInbox(id, state: state, field: "\(field)[\(i)]"))
        }
        return result
    }

    static func apply(_ partial: PartialCounts?, to capacity: inout ChannelCounts) throws(RoutingError) {
        guard let partial else { return }
        for (channel, value) in [
            (Channel.email, partial.email), (.messaging, partial.messaging), (.voice, partial.voice),
            (.voicemail, partial.voicemail),
        ] {
            guard let value else { continue }
            guard (0...10_000).contains(value) else {
                throw .invalid(
                    field: "capacity.\(channel.rawValue)",
                    message: "capacity.\(channel.rawValue) must be from 0 to 10000.")
            }
            capacity[channel] = value
        }
    }
}
