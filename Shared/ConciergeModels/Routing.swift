/// An agent's availability; only an `available` (and active) agent below its capacity is routed to (SPEC §5).
public enum Availability: String, Codable, Sendable, CaseIterable {
    case available, busy, away, offline
}

/// Per-channel numbers: capacity or current load.
public struct ChannelCounts: Codable, Sendable, Equatable {
    public var email: Int
    public var messaging: Int
    public var voice: Int
    public var voicemail: Int

    public init(email: Int = 0, messaging: Int = 0, voice: Int = 0, voicemail: Int = 0) {
        self.email = email
        self.messaging = messaging
        self.voice = voice
        self.voicemail = voicemail
    }

    public static let defaultCapacity = ChannelCounts(email: 10, messaging: 3, voice: 1, voicemail: 10)

    public subscript(channel: Channel) -> Int {
        get {
            switch channel {
            case .email: email
            case .messaging: messaging
            case .voice: voice
            case .voicemail: voicemail
            }
        }
        set {
            switch channel {
            case .email: email = newValue
            case .messaging: messaging = newValue
            case .voice: voice = newValue
            case .voicemail: voicemail = newValue
            }
        }
    }

    public var total: Int { email + messaging + voice + voicemail }
}

/// A user of the product: an agent, team manager or administrator (SPEC §5).
public struct Agent: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var email: String
    public var role: Role
    public var active: Bool
    public var availability: Availability
    public var inboxIds: [String]
    @Nullable public var heroInboxId: String?
    public var capacity: ChannelCounts
    public var load: ChannelCounts
    public var createdAt: String

    public init(
        id: String, name: String, email: String, role: Role, active: Bool, availability: Availability,
        inboxIds: [String], heroInboxId: String?, capacity: ChannelCounts, load: ChannelCounts, createdAt: String
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.active = active
        self.availability = availability
        self.inboxIds = inboxIds
        self.heroInboxId = heroInboxId
        self.capacity = capacity
        self.load = load
        self.createdAt = createdAt
    }
}

/// How an inbox picks among its eligible members.
public enum Strategy: String, Codable, Sendable, CaseIterable {
    case roundRobin = "round_robin"
    case leastBusy = "least_busy"
}

/// A shared inbox: a team with a sender identity and a routing strategy (SPEC §5).
public struct Inbox: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var senderName: String
    public var signature: String
    public var defaultFor: [Channel]
    public var strategy: Strategy
    public var memberIds: [String]

    public init(
        id: String, name: String, senderName: String, signature: String, defaultFor: [Channel], strategy: Strategy,
        memberIds: [String]
    ) {
        self.id = id
        self.name = name
        self.senderName = senderName
        self.signature = signature
        self.defaultFor = defaultFor
        self.strategy = strategy
        self.memberIds = memberIds
    }
}

/// A priority lane inside an inbox (SPEC §5). Every inbox also has an implicit priority-0 queue.
public struct Queue: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var inboxId: String
    public var priority: Int
    /// Only on `GET /v1/queues/{id}`: waiting conversation ids in service order.
    public var waiting: [String]?

    public init(id: String, name: String, inboxId: String, priority: Int, waiting: [String]? = nil) {
        self.id = id
        self.name = name
        self.inboxId = inboxId
        self.priority = priority
        self.waiting = waiting
    }
}

/// `POST /v1/agents` body.
public struct NewAgent: Codable, Sendable, Equatable {
    public var name: String
    public var email: String
    public var role: Role?
    public var availability: Availability?
    public var inboxIds: [String]?
    public var heroInboxId: String?
    public var capacity: PartialCounts?

    public init(
        name: String, email: String, role: Role? = nil, availability: Availability? = nil, inboxIds: [String]? = nil,
        heroInboxId: String? = nil, capacity: PartialCounts? = nil
    ) {
        self.name = name
        self.email = email
        self.role = role
        self.availability = availability
        self.inboxIds = inboxIds
        self.heroInboxId = heroInboxId
        self.capacity = capacity
    }
}

/// Per-channel numbers where only some channels are given (capacity in create and patch bodies).
public struct PartialCounts: Codable, Sendable, Equatable {
    public var email: Int?
    public var messaging: Int?
    public var voice: Int?
    public var voicemail: Int?
    public init(email: Int? = nil, messaging: Int? = nil, voice: Int? = nil, voicemail: Int? = nil) {
        self.email = email
        self.messaging = messaging
        self.voice = voice
        self.voicemail = voicemail
    }
}

/// `PATCH /v1/agents/{id}` body: given fields are replaced (capacity per channel).
public struct AgentPatch: Codable, Sendable, Equatable {
    public var name: String?
    public var email: String?
    public var role: Role?
    public var inboxIds: [String]?
    public var heroInboxId: String?
    public var capacity: PartialCounts?
    public var availability: Availability?
    public init(
        name: String? = nil, email: String? = nil, role: Role? = nil, inboxIds: [String]? = nil,
        heroInboxId: String? = nil, capacity: PartialCounts? = nil, availability: Availability? = nil
    ) {
        self.name = name
        self.email = email
        self.role = role
        self.inboxIds = inboxIds
        self.heroInboxId = heroInboxId
        self.capacity = capacity
        self.availability = availability
    }
}

/// `PUT /v1/agents/{id}/availability` body.
public struct AvailabilityUpdate: Codable, Sendable, Equatable {
    public var availability: Availability
    public init(availability: Availability) { self.availability = availability }
}

/// `POST /v1/inboxes` body.
public struct NewInbox: Codable, Sendable, Equatable {
    public var name: String
    public var senderName: String?
    public var signature: String?
    public var defaultFor: [Channel]?
    public var strategy: Strategy?
    public var memberIds: [String]?
    public init(
        name: String, senderName: String? = nil, signature: String? = nil, defaultFor: [Channel]? = nil,
        strategy: Strategy? = nil, memberIds: [String]? = nil
    ) {
        self.name = name
        self.senderName = senderName
        self.signature = signature
        self.defaultFor = defaultFor
        self.strategy = strategy
        self.memberIds = memberIds
    }
}

/// `PATCH /v1/inboxes/{id}` body.
public struct InboxPatch: Codable, Sendable, Equatable {
    public var name: String?
    public var senderName: String?
    public var signature: String?
    public var defaultFor: [Channel]?
    public var strategy: Strategy?
    public init(
        name: String? = nil, senderName: String? = nil, signature: String? = nil, defaultFor: [Channel]? = nil,
        strategy: Strategy? = nil
    ) {
        self.name = name
        self.senderName = senderName
        self.signature = signature
        self.defaultFor = defaultFor
        self.strategy = strategy
    }
}

/// `PUT /v1/inboxes/{id}/members` body.
public struct MembersUpdate: Codable, Sendable, Equatable {
    public var agentIds: [String]
    public init(agentIds: [String]) { self.agentIds = agentIds }
}

/// `POST /v1/queues` body.
public struct NewQueue: Codable, Sendable, Equatable {
    public var name: String
    public var inboxId: String
    public var priority: Int?
    public init(name: String, inboxId: String, priority: Int? = nil) {
        self.name = name
        self.inboxId = inboxId
        self.priority = priority
    }
}

/// Why routing is asked to decide (SPEC §5 `POST /v1/route`).
public enum RouteEvent: String, Codable, Sendable {
    case new, reopened, message, moved, rerouted
}

/// The contact as routing sees it: identities, tags, attributes and hero.
public struct RouteContact: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var emails: [String]?
    public var phones: [String]?
    public var tags: [String]?
    public var attributes: [String: String]?
    public var dedicatedHero: DedicatedHero?
    public init(
        id: String, name: String? = nil, emails: [String]? = nil, phones: [String]? = nil, tags: [String]? = nil,
        attributes: [String: String]? = nil, dedicatedHero: DedicatedHero? = nil
    ) {
        self.id = id
        self.name = name
        self.emails = emails
        self.phones = phones
        self.tags = tags
        self.attributes = attributes
        self.dedicatedHero = dedicatedHero
    }
}

/// The message that triggered routing.
public struct RouteMessage: Codable, Sendable, Equatable {
    public var id: String
    public var body: String?
    public init(id: String, body: String? = nil) {
        self.id = id
        self.body = body
    }
}

/// `POST /v1/route` body.
public struct RouteRequest: Codable, Sendable, Equatable {
    public var conversationId: String
    public var event: RouteEvent
    public var channel: Channel
    public var inboxId: String?
    public var contact: RouteContact
    public var message: RouteMessage
    public init(
        conversationId: String, event: RouteEvent, channel: Channel, inboxId: String? = nil, contact: RouteContact,
        message: RouteMessage
    ) {
        self.conversationId = conversationId
        self.event = event
        self.channel = channel
        self.inboxId = inboxId
        self.contact = contact
        self.message = message
    }
}

/// Where a conversation stands with routing.
public enum RoutingState: String, Codable, Sendable {
    case pending, assigned, queued
    case awaitingCustomer = "awaiting_customer"
    case none
}

/// One line of a routing trace: which rule or step ran and what came of it.
public struct TraceStep: Codable, Sendable, Equatable {
    public var step: String
    public var outcome: String
    public init(step: String, outcome: String) {
        self.step = step
        self.outcome = outcome
    }
}

/// An automation message the workflow sent.
public struct Reply: Codable, Sendable, Equatable {
    public var body: String
    public init(body: String) { self.body = body }
}

/// `POST /v1/route` answer and `GET /v1/routes/{conversationId}`: the latest decision and why.
public struct RouteResult: Codable, Sendable, Equatable {
    private enum CodingKeys: String, CodingKey {
        case conversationId, routingState, assigneeId, inboxId, queueId, replies, tags, trace, version, decidedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        conversationId = try c.decode(String.self, forKey: .conversationId)
        routingState = try c.decode(RoutingState.self, forKey: .routingState)
        _assigneeId = try c.decode(Nullable<String>.self, forKey: .assigneeId)
        _inboxId = try c.decode(Nullable<String>.self, forKey: .inboxId)
        _queueId = try c.decode(Nullable<String>.self, forKey: .queueId)
        replies = try c.decodeIfPresent([Reply].self, forKey: .replies) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        trace = try c.decodeIfPresent([TraceStep].self, forKey: .trace) ?? []
        version = try c.decode(Int.self, forKey: .version)
        decidedAt = try c.decodeIfPresent(String.self, forKey: .decidedAt) ?? ""
    }

    public var conversationId: String
    public var routingState: RoutingState
    @Nullable public var assigneeId: String?
    @Nullable public var inboxId: String?
    @Nullable public var queueId: String?
    public var replies: [Reply]
    /// Tags a workflow's `tag` steps added, for the conversation to carry.
    public var tags: [String]
    public var trace: [TraceStep]
    /// Increases with every decision routing makes; receivers ignore notices older than what they hold.
    public var version: Int
    public var decidedAt: String

    public init(
        conversationId: String, routingState: RoutingState, assigneeId: String?, inboxId: String?, queueId: String?,
        replies: [Reply], tags: [String] = [], trace: [TraceStep], version: Int, decidedAt: String
    ) {
        self.conversationId = conversationId
        self.routingState = routingState
        self.assigneeId = assigneeId
        self.inboxId = inboxId
        self.queueId = queueId
        self.replies = replies
        self.tags = tags
        self.trace = trace
        self.version = version
        self.decidedAt = decidedAt
    }
}

/// `POST /v1/assignments/{conversationId}/assign` body: a manual transfer (no availability check).
public struct AssignRequest: Codable, Sendable, Equatable {
    public var agentId: String
    /// Needed when routing has never seen the conversation.
    public var channel: Channel?
    public var inboxId: String?
    public init(agentId: String, channel: Channel? = nil, inboxId: String? = nil) {
        self.agentId = agentId
        self.channel = channel
        self.inboxId = inboxId
    }
}

/// `GET /v1/internal/deactivated-agents`: whose tokens every service must refuse.
public struct DeactivatedAgents: Codable, Sendable, Equatable {
    public var agentIds: [String]
    public init(agentIds: [String]) { self.agentIds = agentIds }
}
