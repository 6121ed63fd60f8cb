import ConciergeJSON

/// A customer in the CRM-lookup directory (SPEC §7), unique by email and by phone.
public struct Customer: Codable, Sendable, Equatable {
    public var id: String
    @Nullable public var email: String?
    @Nullable public var phone: String?
    public var customerType: String
    public var loyaltyStatus: String
    @Nullable public var accountManager: String?
    @Nullable public var lifetimeValue: Double?
    public var attributes: [String: JSONValue]
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, email: String?, phone: String?, customerType: String, loyaltyStatus: String,
        accountManager: String?,
        lifetimeValue: Double?, attributes: [String: JSONValue], createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.email = email
        self.phone = phone
        self.customerType = customerType
        self.loyaltyStatus = loyaltyStatus
        self.accountManager = accountManager
        self.lifetimeValue = lifetimeValue
        self.attributes = attributes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/customers` body (upsert by email or phone).
public struct CustomerInput: Codable, Sendable, Equatable {
    public var email: String?
    public var phone: String?
    public var customerType: String?
    public var loyaltyStatus: String?
    public var accountManager: String?
    public var lifetimeValue: Double?
    public var attributes: [String: JSONValue]?

    public init(
        email: String? = nil, phone: String? = nil, customerType: String? = nil, loyaltyStatus: String? = nil,
        accountManager: String? = nil, lifetimeValue: Double? = nil, attributes: [String: JSONValue]? = nil
    ) {
        self.email = email
        self.phone = phone
        self.customerType = customerType
        self.loyaltyStatus = loyaltyStatus
        self.accountManager = accountManager
        self.lifetimeValue = lifetimeValue
        self.attributes = attributes
    }
}

/// `GET /v1/lookup` answer: found or not, from the directory or a named source.
public struct LookupResult: Codable, Sendable, Equatable {
    public var found: Bool
    public var source: String
    public var stale: Bool
    public var data: JSONValue?

    public init(found: Bool, source: String, stale: Bool = false, data: JSONValue? = nil) {
        self.found = found
        self.source = source
        self.stale = stale
        self.data = data
    }
}

/// An external CRM source (SPEC §7 `PUT /v1/sources/{name}`).
public struct SourceConfig: Codable, Sendable, Equatable {
    public var urlTemplate: String
    public var headers: [String: String]?
    public var timeoutMs: Int?
    public var cacheTtlSeconds: Int?

    public init(
        urlTemplate: String, headers: [String: String]? = nil, timeoutMs: Int? = nil, cacheTtlSeconds: Int? = nil
    ) {
        self.urlTemplate = urlTemplate
        self.headers = headers
        self.timeoutMs = timeoutMs
        self.cacheTtlSeconds = cacheTtlSeconds
    }
}

/// A source as listed: header values masked, breaker state shown.
public struct Source: Codable, Sendable, Equatable {
    public var name: String
    public var urlTemplate: String
    public var headers: [String: String]
    public var timeoutMs: Int
    public var cacheTtlSeconds: Int
    /// `closed` (normal), `open` (skipped after 5 failures in a row) or `half_open` (one trial allowed).
    public var breaker: String
    public var updatedAt: String

    public init(
        name: String, urlTemplate: String, headers: [String: String], timeoutMs: Int, cacheTtlSeconds: Int,
        breaker: String,
        updatedAt: String
    ) {
        self.name = name
        self.urlTemplate = urlTemplate
        self.headers = headers
        self.timeoutMs = timeoutMs
        self.cacheTtlSeconds = cacheTtlSeconds
        self.breaker = breaker
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/customers/import` answer.
public struct ImportResult: Codable, Sendable, Equatable {
    public struct Rejection: Codable, Sendable, Equatable {
        public var line: Int
        public var error: String
        public init(line: Int, error: String) {
            self.line = line
            self.error = error
        }
    }
    public var imported: Int
    public var updated: Int
    public var rejected: [Rejection]
    /// All rejected lines, also those past the first 100 listed.
    public var rejectedCount: Int

    public init(imported: Int, updated: Int, rejected: [Rejection], rejectedCount: Int) {
        self.imported = imported
        self.updated = updated
        self.rejected = rejected
        self.rejectedCount = rejectedCount
    }
}
