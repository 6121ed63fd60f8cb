import ConciergeModels

/// `limit` and `cursor` of every list route (SPEC §2): limit 1–500, default 50.
public struct Paging: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maxLimit = 500

    public var limit: Int
    public var cursor: String?

    public init(query: [String: String]) throws {
        limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                throw Problem.badRequest("limit must be an integer from 1 to \(Self.maxLimit).", field: "limit")
            }
            limit = value
        }
        cursor = query["cursor"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The cursor as the integer position this service issued; 400 for anything else.
    public func integerCursor() throws -> Int64? {
        guard let cursor else { return nil }
        guard let value = Int64(cursor), value > 0 else {
            throw Problem.badRequest("The cursor is not one this service issued.", field: "cursor")
        }
        return value
    }
}
