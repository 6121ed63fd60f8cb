import ConciergeJSON

/// One event as the feed and the streams send it (`GET /v1/events`): what happened (`type`), when,
/// in which service, its position in that service's feed (`seq`), and the resource as it is after
/// the change (`data`).
public struct EventEnvelope: Codable, Sendable, Equatable {
    public var id: String
    public var seq: Int64
    public var type: String
    public var occurredAt: String
    public var service: String
    public var data: JSONValue

    public init(id: String, seq: Int64, type: String, occurredAt: String, service: String, data: JSONValue) {
        self.id = id
        self.seq = seq
        self.type = type
        self.occurredAt = occurredAt
        self.service = service
        self.data = data
    }

    /// A string member of `data` (`assigneeId`, …).
    public subscript(data key: String) -> String? {
        guard case .object(let members) = data else { return nil }
        return members[key]?.stringValue
    }
}
