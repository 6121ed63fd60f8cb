import ConciergeModels

/// `GET /v1/events`, the same on every service.
extension ServiceClient {
    /// A page of events after `after` (oldest first), of the `types` given (exact names or
    /// `prefix.*`). With `wait`, the call is held up to that many seconds (≤ 30) until an event
    /// arrives; its timeout grows to match.
    public func events(after: Int64? = nil, types: [String]? = nil, limit: Int? = nil, wait: Double? = nil)
        async throws(ServiceError) -> Page<EventEnvelope>
    {
        var client = self
        if let wait { client.timeout = max(timeout, wait + 5) }
        return try await client.call(
            "GET",
            "/v1/events"
                + queryString([
                    ("after", after.map(String.init)), ("types", types?.joined(separator: ",")),
                    ("limit", limit.map(String.init)), ("wait", wait.map { String($0) }),
                ]))
    }
}

/// What every service's typed client shares: the event feed, the live events and the webhooks,
/// the same routes on each service.
public protocol ServiceAPI: Sendable {
    var client: ServiceClient { get }
}

extension ServiceAPI {
    /// The service's events (see `ServiceClient.events`).
    public func events(after: Int64? = nil, types: [String]? = nil, limit: Int? = nil, wait: Double? = nil)
        async throws(ServiceError) -> Page<EventEnvelope>
    {
        try await client.events(after: after, types: types, limit: limit, wait: wait)
    }

    /// The service's events as they commit (see `ServiceClient.eventStream`).
    public func eventStream(after: Int64? = nil, types: [String]? = nil) async throws(ServiceError) -> EventStream {
        try await client.eventStream(after: after, types: types)
    }

    /// The service's webhooks.
    public var webhooks: WebhooksClient { WebhooksClient(client: client) }
}

extension ContactsClient: ServiceAPI {}
extension RoutingClient: ServiceAPI {}
extension CRMLookupClient: ServiceAPI {}

extension ConversationsClient: ServiceAPI {
    /// Records what a channel connector did with an outbound message (a `service` token).
    public func recordDelivery(_ messageID: String, _ report: DeliveryReport) async throws(ServiceError) -> Message {
        try await client.call("POST", "/v1/messages/\(Self.path(messageID))/delivery", body: report)
    }
}
