/// A type `JSONCoding.decode` can build straight from `JSONParser`'s tree, skipping `JSONDecoder`,
/// which was a visible share of every service's CPU on the inbound path (the route, resolve and inbound
/// bodies and their answers). Only the hot bodies conform.
/// Evidence: `Benchmarks/inbound.sh`, BENCHMARKS.md "Inbound end to end" (`JSONReadable`); equal to
/// `JSONDecoder`: `JSONReadableTests`, `JSONFastPathFuzzTests`.
///
/// The fast path is an optimisation, never a second set of rules: `init(json:)` accepts only what
/// the type's `Decodable` conformance decodes to the same value, and returns nil for anything else —
/// a missing or mistyped field, an unknown enum value. `JSONCoding.decode` then decodes the bytes
/// again with `JSONDecoder`, so every error, and every edge case the reader is unsure of, reads
/// exactly as before. Unknown fields are ignored and a `null` optional is absent, as with `Decodable`.
public protocol JSONReadable: Sendable {
    /// Builds the value from an object's fields; throws `JSONMismatch` for anything it is unsure of.
    init(reading json: JSONObjectReader) throws(JSONMismatch)
}

extension JSONReadable {
    /// The value, or nil when `json` is not an object or `init(reading:)` is unsure.
    public init?(json: JSONValue) {
        do throws(JSONMismatch) {
            self = try Self(reading: try JSONObjectReader(json))
        } catch {
            return nil
        }
    }
}

/// The reader's one error: "not sure, ask `JSONDecoder`".
public struct JSONMismatch: Error {}

/// Typed access to a JSON object's fields for `JSONReadable` conformances.
public struct JSONObjectReader {
    public let fields: [String: JSONValue]

    public init(_ json: JSONValue) throws(JSONMismatch) {
        guard case .object(let fields) = json else { throw JSONMismatch() }
        self.fields = fields
    }

    /// Present or absent: nil for absent or `null`.
    private func optional(_ key: String) -> JSONValue? {
        switch fields[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    public func string(_ key: String) throws(JSONMismatch) -> String {
        guard let value = try optionalString(key) else { throw JSONMismatch() }
        return value
    }

    public func optionalString(_ key: String) throws(JSONMismatch) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.string(value)
    }

    public func bool(_ key: String) throws(JSONMismatch) -> Bool {
        guard case .bool(let value)? = fields[key] else { throw JSONMismatch() }
        return value
    }

    /// An integer that a `Double` holds exactly.
    public func int(_ key: String) throws(JSONMismatch) -> Int {
        guard case .number(let value)? = fields[key], let int = Int(exactly: value), abs(value) < 9.0e15 else {
            throw JSONMismatch()
        }
        return int
    }

    public func value<T: RawRepresentable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> T
    where T.RawValue == String {
        guard let value = T(rawValue: try string(key)) else { throw JSONMismatch() }
        return value
    }

    public func optionalValue<T: RawRepresentable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> T?
    where T.RawValue == String {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = T(rawValue: raw) else { throw JSONMismatch() }
        return value
    }

    public func strings(_ key: String) throws(JSONMismatch) -> [String] {
        guard let value = try optionalStrings(key) else { throw JSONMismatch() }
        return value
    }

    public func optionalStrings(_ key: String) throws(JSONMismatch) -> [String]? {
        guard let value = optional(key) else { return nil }
        guard case .array(let items) = value else { throw JSONMismatch() }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for item in items { strings.append(try Self.string(item)) }
        return strings
    }

    public func stringMap(_ key: String) throws(JSONMismatch) -> [String: String] {
        guard let value = try optionalStringMap(key) else { throw JSONMismatch() }
        return value
    }

    public func optionalStringMap(_ key: String) throws(JSONMismatch) -> [String: String]? {
        guard let value = optional(key) else { return nil }
        guard case .object(let members) = value else { throw JSONMismatch() }
        var map: [String: String] = [:]
        map.reserveCapacity(members.count)
        for (name, member) in members { map[name] = try Self.string(member) }
        return map
    }

    public func object<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> T {
        guard let value = try optionalObject(key, as: type) else { throw JSONMismatch() }
        return value
    }

    public func optionalObject<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> T? {
        guard let value = optional(key) else { return nil }
        return try T(reading: try JSONObjectReader(value))
    }

    public func objects<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> [T] {
        guard let value = try optionalObjects(key, as: type) else { throw JSONMismatch() }
        return value
    }

    public func optionalObjects<T: JSONReadable>(_ key: String, as type: T.Type = T.self) throws(JSONMismatch) -> [T]? {
        guard let value = optional(key) else { return nil }
        guard case .array(let items) = value else { throw JSONMismatch() }
        var objects: [T] = []
        objects.reserveCapacity(items.count)
        for item in items { objects.append(try T(reading: try JSONObjectReader(item))) }
        return objects
    }

    private static func string(_ value: JSONValue) throws(JSONMismatch) -> String {
        guard case .string(let string) = value else { throw JSONMismatch() }
        return string
    }
}

// MARK: The hot bodies

extension RouteRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            conversationId: try json.string("conversationId"), event: try json.value("event"),
            channel: try json.value("channel"), inboxId: try json.optionalString("inboxId"),
            contact: try json.object("contact"), message: try json.object("message"))
    }
}

extension RouteContact: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            id: try json.string("id"), name: try json.optionalString("name"),
            emails: try json.optionalStrings("emails"),
            phones: try json.optionalStrings("phones"), tags: try json.optionalStrings("tags"),
            attributes: try json.optionalStringMap("attributes"),
            dedicatedHero: try json.optionalObject("dedicatedHero"))
    }
}

extension RouteMessage: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(id: try json.string("id"), body: try json.optionalString("body"))
    }
}

extension DedicatedHero: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(type: try json.value("type"), id: try json.string("id"))
    }
}

extension RouteResult: JSONReadable {
    /// As `init(from:)`: replies, tags and trace default to empty, `decidedAt` to "".
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            conversationId: try json.string("conversationId"), routingState: try json.value("routingState"),
            assigneeId: try json.optionalString("assigneeId"), inboxId: try json.optionalString("inboxId"),
            queueId: try json.optionalString("queueId"), replies: try json.optionalObjects("replies") ?? [],
            tags: try json.optionalStrings("tags") ?? [], trace: try json.optionalObjects("trace") ?? [],
            version: try json.int("version"), decidedAt: try json.optionalString("decidedAt") ?? "")
    }
}

extension TraceStep: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(step: try json.string("step"), outcome: try json.string("outcome"))
    }
}

extension Reply: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(body: try json.string("body"))
    }
}

extension ResolveRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            channel: try json.value("channel"), address: try json.string("address"),
            name: try json.optionalString("name"))
    }
}

extension ResolveResult: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(contact: try json.object("contact"), created: try json.bool("created"))
    }
}

extension Contact: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            id: try json.string("id"), name: try json.string("name"), emails: try json.strings("emails"),
            phones: try json.strings("phones"), handles: try json.objects("handles"), tags: try json.strings("tags"),
            attributes: try json.stringMap("attributes"), blocked: try json.bool("blocked"),
            dedicatedHero: try json.optionalObject("dedicatedHero"), mergedInto: try json.optionalString("mergedInto"),
            createdAt: try json.string("createdAt"), updatedAt: try json.string("updatedAt"))
    }
}

extension Handle: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(channel: try json.string("channel"), value: try json.string("value"))
    }
}

extension InboundRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            channel: try json.value("channel"), from: try json.string("from"), name: try json.optionalString("name"),
            subject: try json.optionalString("subject"), body: try json.string("body"),
            conversationId: try json.optionalString("conversationId"), externalId: try json.optionalString("externalId")
        )
    }
}
