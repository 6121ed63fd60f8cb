/// Where a conversation stands from the customer's side (SPEC §4).
public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    /// The customer is waiting for us.
    case waiting
    /// We are waiting for the customer.
    case open
    case closed
}

/// A thread with one contact on one channel (SPEC §4).
public struct Conversation: Codable, Sendable, Equatable {
    public var id: String
    public var contactId: String
    public var channel: Channel
    @Nullable public var inboxId: String?
    @Nullable public var assigneeId: String?
    @Nullable public var queueId: String?
    public var routingState: RoutingState
    public var status: ConversationStatus
    @Nullable public var subject: String?
    public var tags: [String]
    public var spam: Bool
    public var createdAt: String
    public var updatedAt: String
    @Nullable public var closedAt: String?
    @Nullable public var firstResponseAt: String?

    public init(
        id: String, contactId: String, channel: Channel, inboxId: String?, assigneeId: String?, queueId: String?,
        routingState: RoutingState, status: ConversationStatus, subject: String?, tags: [String], spam: Bool,
        createdAt: String, updatedAt: String, closedAt: String?, firstResponseAt: String?
    ) {
        self.id = id
        self.contactId = contactId
        self.channel = channel
        self.inboxId = inboxId
        self.assigneeId = assigneeId
        self.queueId = queueId
        self.routingState = routingState
        self.status = status
        self.subject = subject
        self.tags = tags
        self.spam = spam
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.closedAt = closedAt
        self.firstResponseAt = firstResponseAt
    }
}

/// Who wrote a message.
public struct MessageAuthor: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case contact, agent, automation }
    public var type: Kind
    @Nullable public var id: String?
    public init(type: Kind, id: String?) {
        self.type = type
        self.id = id
    }
}

/// One message of a conversation (SPEC §4).
public struct Message: Codable, Sendable, Equatable {
    public enum Direction: String, Codable, Sendable { case inbound, outbound }
    public var id: String
    public var conversationId: String
    public var direction: Direction
    public var author: MessageAuthor
    public var body: String
    public var senderName: String?
    public var signature: String?
    /// What the channel connector did with an outbound message; absent on inbound messages.
    public var delivery: MessageDelivery?
    public var createdAt: String

    public init(
        id: String, conversationId: String, direction: Direction, author: MessageAuthor, body: String,
        senderName: String? = nil, signature: String? = nil, delivery: MessageDelivery? = nil, createdAt: String
    ) {
        self.id = id
        self.conversationId = conversationId
        self.direction = direction
        self.author = author
        self.body = body
        self.senderName = senderName
        self.signature = signature
        self.delivery = delivery
        self.createdAt = createdAt
    }
}

/// Where an outbound message stands with the channel connector that sends it: `pending` until the
/// connector reports `sent`, `delivered` or `failed` (`POST /v1/messages/{id}/delivery`).
public struct MessageDelivery: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case pending, sent, delivered, failed

        /// How far along the status is; a report may not go back to a lower rank. `sent` and `failed`
        /// share one: a channel may bounce what it took, and a connector may retry what failed; only
        /// `delivered` is final.
        public var rank: Int {
            switch self {
            case .pending: 0
            case .sent, .failed: 1
            case .delivered: 2
            }
        }
    }

    public var status: Status
    public var externalId: String?
    public var error: String?
    public var updatedAt: String?

    public init(status: Status, externalId: String? = nil, error: String? = nil, updatedAt: String? = nil) {
        self.status = status
        self.externalId = externalId
        self.error = error
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/messages/{id}/delivery` body: what a channel connector did with an outbound message.
public struct DeliveryReport: Codable, Sendable, Equatable {
    public var status: MessageDelivery.Status
    public var externalId: String?
    public var error: String?

    public init(status: MessageDelivery.Status, externalId: String? = nil, error: String? = nil) {
        self.status = status
        self.externalId = externalId
        self.error = error
    }
}

/// `POST /v1/inbound` body: one message from a channel connector.
public struct InboundRequest: Codable, Sendable, Equatable {
    public var channel: Channel
    public var from: String
    public var name: String?
    public var subject: String?
    public var body: String
    public var conversationId: String?
    public var externalId: String?

    public init(
        channel: Channel, from: String, name: String? = nil, subject: String? = nil, body: String,
        conversationId: String? = nil, externalId: String? = nil
    ) {
        self.channel = channel
        self.from = from
        self.name = name
        self.subject = subject
        self.body = body
        self.conversationId = conversationId
        self.externalId = externalId
    }
}

/// `POST /v1/inbound` answer: where the message went, or that it was dropped.
public struct InboundResult: Codable, Sendable, Equatable {
    @Nullable public var conversationId: String?
    @Nullable public var messageId: String?
    public var contactId: String
    @Nullable public var status: ConversationStatus?
    @Nullable public var inboxId: String?
    @Nullable public var assigneeId: String?
    @Nullable public var queueId: String?
    @Nullable public var routingState: RoutingState?
    public var spam: Bool
    public var dropped: Bool
    public var reason: String?
    public var replies: [Reply]

    public init(
        conversationId: String?, messageId: String?, contactId: String, status: ConversationStatus?, inboxId: String?,
        assigneeId: String?, queueId: String?, routingState: RoutingState?, spam: Bool, dropped: Bool,
        reason: String? = nil,
        replies: [Reply]
    ) {
        self.conversationId = conversationId
        self.messageId = messageId
        self.contactId = contactId
        self.status = status
        self.inboxId = inboxId
        self.assigneeId = assigneeId
        self.queueId = queueId
        self.routingState = routingState
        self.spam = spam
        self.dropped = dropped
        self.reason = reason
        self.replies = replies
    }
}

/// `POST /v1/conversations/{id}/messages` body: an agent's reply.
public struct NewMessage: Codable, Sendable, Equatable {
    public var body: String
    public init(body: String) { self.body = body }
}

/// `POST /v1/conversations/{id}/assign` body.
public struct TransferRequest: Codable, Sendable, Equatable {
    public var agentId: String
    public init(agentId: String) { self.agentId = agentId }
}

/// `POST /v1/conversations/{id}/move` body.
public struct MoveRequest: Codable, Sendable, Equatable {
    public var inboxId: String
    public init(inboxId: String) { self.inboxId = inboxId }
}

/// `POST /v1/conversations/{id}/tags` body.
public struct TagChange: Codable, Sendable, Equatable {
    public var add: [String]?
    public var remove: [String]?
    public init(add: [String]? = nil, remove: [String]? = nil) {
        self.add = add
        self.remove = remove
    }
}

/// A median and 90th percentile in seconds; `null` when there is nothing to measure.
public struct Percentiles: Codable, Sendable, Equatable {
    @Nullable public var median: Double?
    @Nullable public var p90: Double?
    public init(median: Double?, p90: Double?) {
        self.median = median
        self.p90 = p90
    }
}

/// `GET /v1/reports/conversations` answer.
public struct ConversationReport: Codable, Sendable, Equatable {
    public var total: Int
    public var byStatus: [String: Int]
    public var byChannel: [String: Int]
    public var byInbox: [String: Int]
    public var byTag: [String: Int]
    public var firstResponseSeconds: Percentiles
    public var resolutionSeconds: Percentiles
    public init(
        total: Int, byStatus: [String: Int], byChannel: [String: Int], byInbox: [String: Int], byTag: [String: Int],
        firstResponseSeconds: Percentiles, resolutionSeconds: Percentiles
    ) {
        self.total = total
        self.byStatus = byStatus
        self.byChannel = byChannel
        self.byInbox = byInbox
        self.byTag = byTag
        self.firstResponseSeconds = firstResponseSeconds
        self.resolutionSeconds = resolutionSeconds
    }
}
