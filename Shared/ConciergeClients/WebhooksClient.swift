import ConciergeModels

/// `/v1/webhooks` of one service (administrator tokens): the same on every service, reached through
/// each typed client's `webhooks`.
public struct WebhooksClient: Sendable {
    public let client: ServiceClient

    public init(client: ServiceClient) { self.client = client }

    /// Creates a webhook; the answer is the only one (with rotation's) that shows its `secret`.
    public func create(_ webhook: NewWebhook) async throws(ServiceError) -> Webhook {
        try await client.call("POST", "/v1/webhooks", body: webhook)
    }

    public func list(limit: Int? = nil, cursor: String? = nil) async throws(ServiceError) -> Page<Webhook> {
        try await client.call(
            "GET", "/v1/webhooks" + queryString([("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    public func get(_ id: String) async throws(ServiceError) -> Webhook {
        try await client.call("GET", "/v1/webhooks/\(Self.path(id))")
    }

    public func update(_ id: String, _ patch: WebhookPatch) async throws(ServiceError) -> Webhook {
        try await client.call("PATCH", "/v1/webhooks/\(Self.path(id))", body: patch)
    }

    public func delete(_ id: String) async throws(ServiceError) {
        _ = try await client.send("DELETE", "/v1/webhooks/\(Self.path(id))")
    }

    /// A new secret (shown in the answer); deliveries carry both signatures for 24 hours.
    public func rotateSecret(_ id: String) async throws(ServiceError) -> Webhook {
        try await client.call("POST", "/v1/webhooks/\(Self.path(id))/rotate-secret")
    }

    /// The delivery log, newest first.
    public func deliveries(_ id: String, limit: Int? = nil, cursor: String? = nil) async throws(ServiceError) -> Page<
        WebhookDelivery
    > {
        try await client.call(
            "GET",
            "/v1/webhooks/\(Self.path(id))/deliveries"
                + queryString([("limit", limit.map(String.init)), ("cursor", cursor)]))
    }

    /// Sends again every kept event after `after`.
    public func replay(_ id: String, after: Int64) async throws(ServiceError) -> Webhook {
        try await client.call("POST", "/v1/webhooks/\(Self.path(id))/replay", body: WebhookReplay(after: after))
    }

    private static func path(_ id: String) -> String { URLCoding.encodeComponent(id) }
}
