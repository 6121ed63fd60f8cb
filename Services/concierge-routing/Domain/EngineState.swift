import ConciergeModels
import Foundation
import ServiceRuntime

/// Everything routing decides from, in memory, mirrored row by row in SQLite. Only `RoutingEngine`
/// touches it, under its lock and inside a write transaction, so memory and disk change together.
struct EngineState: Sendable {
    var agents = AgentTable()
    var agentIDByEmail: [String: String] = [:]
    var inboxes: [String: InboxRecord] = [:]
    var queues: [String: QueueRecord] = [:]
    var queueIDsByInbox: [String: [String]] = [:]
    var assignments = ShardedDictionary<String, AssignmentRecord>()
    var lines = WaitingLines()
    /// The last decision version handed out; strictly increasing across restarts.
    var version: Int64 = 0
    var nextSeq: Int64 = 0

    init(_ snapshot: RoutingStore.Snapshot) {
        for agent in snapshot.agents {
            agents[agent.id] = agent
            agentIDByEmail[agent.email] = agent.id
        }
        for inbox in snapshot.inboxes { inboxes[inbox.id] = inbox }
        for queue in snapshot.queues {
            queues[queue.id] = queue
            queueIDsByInbox[queue.inboxID, default: []].append(queue.id)
        }
        for assignment in snapshot.assignments {
            assignments[assignment.conversationID] = assignment
            switch assignment.state {
            case .assigned:
                if let agentID = assignment.agentID { agents[agentID]?.load[assignment.channel] += 1 }
            case .queued:
                lines.append(
                    assignment.conversationID, since: assignment.waitingSince, line: assignment.lineKey,
                    channel: assignment.channel.rawValue)
            }
        }
        version = snapshot.version
        nextSeq = max(
            snapshot.agents.map(\.seq).max() ?? 0, snapshot.inboxes.map(\.seq).max() ?? 0,
            snapshot.queues.map(\.seq).max() ?? 0)
    }

    mutating func nextVersion() -> Int64 {
        version += 1
        return version
    }

    mutating func nextSequence() -> Int64 {
        nextSeq += 1
        return nextSeq
    }

    func defaultInbox(for channel: Channel) -> InboxRecord? {
        inboxes.values.filter { $0.defaultFor.contains(channel) }.min { $0.seq < $1.seq }
    }

    // MARK: - Assignments

    /// Gives the conversation to `agentID` (load +1), replacing whatever routing held for it.
    mutating func assign(
        _ conversationID: String, to agentID: String, inboxID: String?, channel: Channel, _ tx: RoutingTransaction
    ) throws -> AssignmentRecord {
        try release(conversationID, tx)
        let version = nextVersion()
        let record = AssignmentRecord(
            conversationID: conversationID, channel: channel, inboxID: inboxID, queueID: nil, agentID: agentID,
            state: .assigned, priority: 0, waitingSince: 0, version: version)
        assignments[conversationID] = record
        agents[agentID]?.load[channel] += 1
        agents[agentID]?.lastActivity = version
        try tx.save(record)
        try tx.saveLastActivity(agentID: agentID, version: version)
        return record
    }

    /// Puts the conversation at the back of a waiting line: an explicit queue or the inbox's implicit one.
    mutating func enqueue(
        _ conversationID: String, inboxID: String, queueID: String?, channel: Channel, _ tx: RoutingTransaction
    ) throws -> AssignmentRecord {
        try release(conversationID, tx)
        let version = nextVersion()
        let record = AssignmentRecord(
            conversationID: conversationID, channel: channel, inboxID: inboxID, queueID: queueID, agentID: nil,
            state: .queued,
            priority: queueID.flatMap { queues[$0]?.priority } ?? 0, waitingSince: version, version: version)
        assignments[conversationID] = record
        lines.append(conversationID, since: version, line: record.lineKey, channel: channel.rawValue)
        try tx.save(record)
        return record
    }

    /// Forgets the conversation (closed, or about to be placed again); returns what routing held.
    @discardableResult
    mutating func release(_ conversationID: String, _ tx: RoutingTransaction) throws -> AssignmentRecord? {
        guard let old = assignments.removeValue(forKey: conversationID) else { return nil }
        if old.state == .assigned, let agentID = old.agentID, var agent = agents[agentID] {
            agent.load[old.channel] = max(0, agent.load[old.channel] - 1)
            agent.lastActivity = nextVersion()
            agents[agentID] = agent
            try tx.saveLastActivity(agentID: agentID, version: agent.lastActivity)
        }
        try tx.deleteAssignment(conversationID)
        return old
    }

    func isWaiting(_ conversationID: String, since: Int64) -> Bool {
        guard let record = assignments[conversationID] else { return false }
        return record.state == .queued && record.waitingSince == since
    }

    /// Ids waiting in one queue (or an inbox's implicit queue) in service order: oldest first.
    func waiting(line: String) -> [String] {
        Channel.allCases.flatMap { channel in
            lines.waiting(line: line, channel: channel.rawValue) { isWaiting($0, since: $1) }
        }.sorted { $0.since < $1.since }.map(\.id)
    }

    // MARK: - Results

    func result(
        _ conversationID: String, _ record: AssignmentRecord?, trace: [TraceStep], replies: [Reply] = [],
        version: Int64? = nil
    ) -> RouteResult {
        let state: RoutingState =
            switch record?.state {
            case .assigned: .assigned
            case .queued: .queued
            case nil: .none
            }
        return RouteResult(
            conversationId: conversationID, routingState: state, assigneeId: record?.agentID, inboxId: record?.inboxID,
            queueId: record?.queueID, replies: replies, trace: trace,
            version: Int(version ?? record?.version ?? self.version),
            decidedAt: Timestamp.now())
    }

}
