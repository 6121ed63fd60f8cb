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
