import ConciergeJSON

/// A request body whose optional fields may be left out but not sent as `null`. `Decodable` reads
/// both as "absent", and so did we — while a merge patch reads `null` as "remove". In a create or
/// command body a `null` is refused (400 naming the field), so it never means one thing on one route
/// and another on the next. `JSONCoding.decode` checks the paths on the parsed tree before decoding.
public protocol NullRefusing {
    /// Dotted paths of the optional fields (`message.body` for a field of a nested object).
    static var fieldsNeverNull: [String] { get }
}

extension NullRefusing {
    /// The problem for the first listed field that is present as `null` in `json`, if any.
    static func nullProblem(in json: JSONValue) -> Problem? {
        for path in fieldsNeverNull {
            var value: JSONValue? = json
            for key in path.split(separator: ".") { value = value?.objectValue?[String(key)] }
            if value == .null {
                return .badRequest("Field \(path) must not be null; leave it out instead.", field: path)
            }
        }
        return nil
    }
}

extension InboundRequest: NullRefusing {
    public static let fieldsNeverNull = ["name", "subject", "conversationId", "externalId"]
}

extension ResolveRequest: NullRefusing {
    public static let fieldsNeverNull = ["name"]
}

extension RouteRequest: NullRefusing {
    public static let fieldsNeverNull = ["inboxId", "message.body"]
}

extension NewAgent: NullRefusing {
    public static let fieldsNeverNull = ["role", "availability", "inboxIds", "heroInboxId", "capacity"]
}

extension NewInbox: NullRefusing {
    public static let fieldsNeverNull = ["senderName", "signature", "defaultFor", "strategy", "memberIds"]
}

extension NewQueue: NullRefusing {
    public static let fieldsNeverNull = ["priority"]
}

extension NewContact: NullRefusing {
    public static let fieldsNeverNull = ["name", "emails", "phones", "handles", "tags", "attributes"]
}
