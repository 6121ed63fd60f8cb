import ConciergeJSON
import Foundation

/// The one place JSON is encoded and decoded, so every service answers the same shape of 400.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter()
            writable.write(to: &writer)
            return writer.bytes
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes `T`; a failure becomes a 400 problem naming the offending field path. Every body is
    /// read by `JSONParser` first, whatever builds `T` after it, so every route refuses the same
    /// documents: a repeated key, a lone surrogate escape, invalid UTF-8 — also in a value `T` ignores.
    /// `JSONReadable` types (and `JSONValue`) are built from that tree when they can be, others decoded
    /// by `JSONDecoder` from the bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw Problem.badRequest("The body is not valid JSON: \(error.description).")
        }
        if let refusing = type as? any NullRefusing.Type, let problem = refusing.nullProblem(in: json) { throw problem }
        if let value = json as? T { return value }
        if let readable = type as? any JSONReadable.Type, let value = readable.init(json: json) as? T { return value }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw problem(for: error)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem.badRequest("The body is not valid JSON.")
        }
    }

    /// `T` built from `JSONParser`'s tree, when `T` is `JSONReadable` and `bytes` are what it expects;
    /// nil otherwise (decode with `JSONDecoder` then).
    public static func readFast<T>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        guard let readable = type as? any JSONReadable.Type, let json = try? JSONParser.parse(bytes) else { return nil }
        return readable.init(json: json) as? T
    }

    public static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .badRequest("Missing required field \(field).", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .badRequest(
                "Field \(field.isEmpty ? "(body)" : field) has the wrong type; expected \(describe(type)).",
                field: field.isEmpty ? nil : field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("Field \(field) must not be null; expected \(describe(type)).", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .badRequest("The body is not valid JSON.") }
            return .badRequest("Field \(field) is invalid: \(context.debugDescription)", field: field)
        @unknown default:
            return .badRequest("The body could not be decoded.")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)".lowercased().contains("array") ? "an array" : "an object"
        }
    }
}

/// Encodes `nil` as JSON `null` instead of leaving the key out (SPEC shows `"mergedInto": null`).
/// A missing key decodes as `nil`.
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    public func decode<Value>(_ type: Nullable<Value>.Type, forKey key: Key) throws -> Nullable<Value> {
        try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
    }
}
