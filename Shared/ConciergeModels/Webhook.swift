/// A webhook: where a service sends its events (`/v1/webhooks`, administrators).
public struct Webhook: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Delivering.
        case active
        /// Stopped by an administrator; events wait (while kept) until it is active again.
        case paused
        /// Stopped by the service after every delivery failed for the retry window; see `disabledReason`.
        case disabled
    }

    public var id: String
    public var url: String
    /// Event types it receives: exact names or prefixes `conversation.*` (`*` for all).
    public var types: [String]
    public var description: String?
    public var status: Status
    /// Why the service disabled it (only when `disabled`).
    public var disabledReason: String?
    /// The signing secret: only in the answers to create and to rotate-secret.
    public var secret: String?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, url: String, types: [String], description: String?, status: Status, disabledReason: String?,
        secret: String? = nil, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.url = url
        self.types = types
        self.description = description
        self.status = status
        self.disabledReason = disabledReason
        self.secret = secret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/webhooks`.
public struct NewWebhook: Codable, Sendable, Equatable {
    public var url: String
    public var types: [String]
    public var description: String?

    public init(url: String, types: [String], description: String? = nil) {
        self.url = url
        self.types = types
        self.description = description
    }
}

/// `PATCH /v1/webhooks/{id}`: what is present changes.
public struct WebhookPatch: Codable, Sendable, Equatable {
    public var url: String?
    public var types: [String]?
    /// `active` or `paused` (a webhook is `disabled` only by the service).
    public var status: Webhook.Status?
    public var description: String?

    public init(url: String? = nil, types: [String]? = nil, status: Webhook.Status? = nil, description: String? = nil) {
        self.url = url
        self.types = types
        self.status = status
        self.description = description
    }
}

/// One delivery attempt of an event to a webhook (`GET /v1/webhooks/{id}/deliveries`).
public struct WebhookDelivery: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case succeeded, failed, pending }

    public var eventId: String
    public var seq: Int64
    public var type: String
    public var attempt: Int
    public var status: Status
    /// The receiver's HTTP status, if it answered.
    public var responseStatus: Int?
    /// Why the attempt failed, if it did.
    public var error: String?
    public var durationMs: Int?
    public var attemptedAt: String
    /// When the event is tried again (a failed attempt that will be retried).
    public var nextAttemptAt: String?

    public init(
        eventId: String, seq: Int64, type: String, attempt: Int, status: Status, responseStatus: Int?, error: String?,
        durationMs: Int?, attemptedAt: String, nextAttemptAt: String?
    ) {
        self.eventId = eventId
        self.seq = seq
        self.type = type
        self.attempt = attempt
        self.status = status
        self.responseStatus = responseStatus
        self.error = error
        self.durationMs = durationMs
        self.attemptedAt = attemptedAt
        self.nextAttemptAt = nextAttemptAt
    }
}

/// `POST /v1/webhooks/{id}/replay`: send again every kept event after `after`.
public struct WebhookReplay: Codable, Sendable, Equatable {
    public var after: Int64

    public init(after: Int64) { self.after = after }
}
