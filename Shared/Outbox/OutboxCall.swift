import ConciergeModels

/// One state-changing call on another service, as the outbox stores and delivers it: its kind (what
/// it is), where it goes, and what it carries. Answers are applied by kind (`Outbox.onDelivered`),
/// never by matching URLs. Each service's calls are made by named constructors (`OutboxCall.route`,
/// `.release`, … in `ServiceRuntime`), not spelled out at the call sites.
public struct OutboxCall: Sendable {
    /// What a call is, stored with its entry (`route`, `assign`, `release`, …).
    public struct Kind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }
    }

    public let kind: Kind
    /// The receiving service (`Outbox.Target` name).
    public let target: String
    public let method: String
    public let path: String
    public let body: [UInt8]
    /// What the call is about (a conversation or contact id): calls with the same target and key are
    /// delivered in the order they were written; `nil` orders by target alone.
    public let key: String?

    public init(kind: Kind, target: String, method: String = "POST", path: String, body: some Encodable, key: String?)
        throws
    {
        self.kind = kind
        self.target = target
        self.method = method
        self.path = path
        self.body = try JSONCoding.encode(body)
        self.key = key
    }
}
