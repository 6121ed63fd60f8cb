/// An agent's availability (SPEC §5).
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
