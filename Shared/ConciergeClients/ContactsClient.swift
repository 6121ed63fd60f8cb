import ConciergeHTTPClient
import ConciergeModels

/// Typed client of the contacts service (SPEC §3): contacts and their identities, resolve, merge, blocking
/// and the dedicated hero.
public struct ContactsClient: Sendable {
    public let client: ServiceClient

    public init(baseURL: String, tokens: TokenSource?, http: HTTPClient = .shared, timeout: Double = 5) {
        client = ServiceClient(baseURL: baseURL, tokens: tokens, http: http, timeout: timeout)
    }

    /// Search filters of `GET /v1/contacts`.
    public struct Search: Sendable {
        public var email: String?
        public var phone: String?
        public var tag: String?
        public var q: String?
        public var heroAgentId: String?
        public var heroInboxId: String?
        public var limit: Int?
        public var cursor: String?
        public init(
            email: String? = nil, phone: String? = nil, tag: String? = nil, q: String? = nil,
            heroAgentId: String? = nil, heroInboxId: String? = nil, limit: Int? = nil, cursor: String? = nil
        ) {
            self.email = email
            self.phone = phone
            self.tag = tag
            self.q = q
            self.heroAgentId = heroAgentId
            self.heroInboxId = heroInboxId
            self.limit = limit
            self.cursor = cursor
        }
    }

    public func create(_ contact: NewContact) async throws(ServiceError) -> Contact {
        try await client.call("POST", "/v1/contacts", body: contact)
    }

    public func get(_ id: String) async throws(ServiceError) -> Contact {
        try await client.call("GET", "/v1/contacts/\(URLCoding.encodeComponent(id))")
    }

    /// A JSON merge patch; build it with `ContactPatch`.
    public func update(_ id: String, _ patch: ContactPatch) async throws(ServiceError) -> Contact {
        try await client.call("PATCH", "/v1/contacts/\(URLCoding.encodeComponent(id))", body: patch)
    }

    public func search(_ search: Search = Search()) async throws(ServiceError) -> Page<Contact> {
        let query = queryString([
            ("email", search.email), ("phone", search.phone), ("tag", search.tag), ("q", search.q),
            ("heroAgentId", search.heroAgentId), ("heroInboxId", search.heroInboxId),
            ("limit", search.limit.map(String.init)), ("cursor", search.cursor),
        ])
        return try await client.call("GET", "/v1/contacts" + query)
    }

    public func resolve(_ request: ResolveRequest) async throws(ServiceError) -> ResolveResult {
        try await client.call("POST", "/v1/contacts/resolve", body: request)
    }

    public func merge(into targetID: String, sourceID: String) async throws(ServiceError) -> Contact {
        try await client.call(
            "POST", "/v1/contacts/\(URLCoding.encodeComponent(targetID))/merge", body: MergeRequest(sourceId: sourceID))
    }

    public func block(_ id: String) async throws(ServiceError) -> Contact {
        try await client.call("POST", "/v1/contacts/\(URLCoding.encodeComponent(id))/block")
    }

    public func unblock(_ id: String) async throws(ServiceError) -> Contact {
        try await client.call("POST", "/v1/contacts/\(URLCoding.encodeComponent(id))/unblock")
    }

    public func setDedicatedHero(_ id: String, _ hero: DedicatedHero) async throws(ServiceError) -> Contact {
        try await client.call("PUT", "/v1/contacts/\(URLCoding.encodeComponent(id))/dedicated-hero", body: hero)
    }

    public func removeDedicatedHero(_ id: String) async throws(ServiceError) -> Contact {
        try await client.call("DELETE", "/v1/contacts/\(URLCoding.encodeComponent(id))/dedicated-hero")
    }
}

/// A JSON merge patch for a contact: set fields are replaced, `attributes` entries set to `nil` are removed.
public struct ContactPatch: Encodable, Sendable {
    public var name: String?
    public var emails: [String]?
    public var phones: [String]?
    public var handles: [Handle]?
    public var tags: [String]?
    /// `nil` values remove the key.
    public var attributes: [String: String?]?

    public init(
        name: String? = nil, emails: [String]? = nil, phones: [String]? = nil, handles: [Handle]? = nil,
        tags: [String]? = nil, attributes: [String: String?]? = nil
    ) {
        self.name = name
        self.emails = emails
        self.phones = phones
        self.handles = handles
        self.tags = tags
        self.attributes = attributes
    }

    private enum CodingKeys: String, CodingKey { case name, emails, phones, handles, tags, attributes }
    private struct AttributeKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(emails, forKey: .emails)
        try container.encodeIfPresent(phones, forKey: .phones)
        try container.encodeIfPresent(handles, forKey: .handles)
        try container.encodeIfPresent(tags, forKey: .tags)
        if let attributes {
            var nested = container.nestedContainer(keyedBy: AttributeKey.self, forKey: .attributes)
            for (key, value) in attributes {
                if let value {
                    try nested.encode(value, forKey: AttributeKey(stringValue: key))
                } else {
                    try nested.encodeNil(forKey: AttributeKey(stringValue: key))
                }
            }
        }
    }
}
