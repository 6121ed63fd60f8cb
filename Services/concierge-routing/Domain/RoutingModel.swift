import ConciergeModels

/// An agent as the engine holds it: the stored fields plus its live load.
struct AgentRecord: Sendable {
    var seq: Int64
    var id: String
    var name: String
    var email: String
    var role: Role
    var active: Bool
    var availability: Availability
    var inboxIDs: [String]
    var heroInboxID: String?
    var capacity: ChannelCounts
    var load: ChannelCounts
    /// Version at which the agent last took a conversation, gave one up (closed, transferred, routed
    /// elsewhere) or became available again; 0: never. `least_busy` breaks a tie of load by the oldest:
    /// the member idle longest (SPEC §5). Stored in `agents.last_assigned`.
    var lastActivity: Int64
    var createdAt: String

    var wire: Agent {
        Agent(
            id: id, name: name, email: email, role: role, active: active, availability: availability,
            inboxIds: inboxIDs,
            heroInboxId: heroInboxID, capacity: capacity, load: load, createdAt: createdAt)
    }
}

struct InboxRecord: Sendable {
    var seq: Int64
    var id: String
    var name: String
    var senderName: String
    var signature: String
    var defaultFor: [Channel]
    var strategy: Strategy
    var memberIDs: [String] { didSet { memberSlots = nil } }
    /// The members' slots in `EngineState.agents`, made by the first decision after `memberIDs`
    /// changed (which drops them).
    var memberSlots: [Int]? = nil
    /// The member this inbox last assigned to by round robin; survives restarts.
    var pointer: String?
    var createdAt: String

    var wire: Inbox {
        Inbox(
            id: id, name: name, senderName: senderName, signature: signature, defaultFor: defaultFor,
            strategy: strategy,
            memberIds: memberIDs)
    }
}

struct QueueRecord: Sendable {
    var seq: Int64
    var id: String
    var name: String
    var inboxID: String
    var priority: Int

    var wire: Queue { Queue(id: id, name: name, inboxId: inboxID, priority: priority) }
}

/// A conversation routing is responsible for: assigned to an agent, or waiting in a queue.
struct AssignmentRecord: Sendable {
    enum State: String, Sendable { case assigned, queued }
    var conversationID: String
    var channel: Channel
    /// `nil` only for a conversation assigned straight to an agent when no inbox applies.
    var inboxID: String?
    /// An explicit queue; `nil` is the inbox's implicit priority-0 queue.
    var queueID: String?
    var agentID: String?
    var state: State
    var priority: Int
    /// Position in waiting order (older first); set when queued.
    var waitingSince: Int64
    var version: Int64

    /// The key of the waiting line this conversation is in.
    var lineKey: String { queueID ?? WaitingLines.implicitKey(inboxID ?? "") }
}
