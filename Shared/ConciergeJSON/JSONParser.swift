/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`, for hot paths where `JSONDecoder` costs
/// more than the work around it (a CRM import parses a million lines).
///
/// It refuses all that `JSONSerialization` refuses — invalid UTF-8, unpaired surrogate escapes, raw
/// control characters in strings, leading zeros, numbers beyond `Double`, nesting deeper than 512 —
/// and also trailing commas, which Foundation lets through, and a key repeated in one object (RFC 8259
/// leaves its meaning open; readers disagree on which value wins, so a document that has one is refused
/// rather than read one way here and another way elsewhere). Any value may stand at the top and a
/// leading UTF-8 BOM is skipped, as in `JSONSerialization`.
/// Input never traps: every byte is read behind a bounds check and the depth limit bounds recursion.
public struct JSONParser {
    /// Deepest nesting of arrays and objects; 512, as in `JSONSerialization`.
    public static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// Unescaped bytes of the current string, kept between strings to save allocations.
    private var scratch: [UInt8] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The one JSON value `bytes` hold, surrounded by nothing but whitespace.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected text after the value") }
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in try parse(buffer) }
    }

    // MARK: - Values

    private mutating func value() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try descend()
        var members: [String: JSONValue] = [:]
        members.reserveCapacity(8)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let keyStart = index
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw failure("expected ':' after a key")
            }
            index += 1
            guard members.updateValue(try value(), forKey: key) == nil else {
                throw failure("repeated key in an object", at: keyStart)
            }
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try descend()
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default: throw failure("expected ',' or ']' in an array")
            }
        }
    }

    /// Steps over the opening bracket, one level deeper.
    private mutating func descend() throws(JSONParseError) {
        guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth) levels") }
        depth += 1
        index += 1
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected)
        else {
            throw failure("unexpected character")
        }
        index += expected.count
        return value
    }

    // MARK: - Strings

    /// A string from its opening quote; bytes without escapes become the `String` directly.
    private mutating func string() throws(JSONParseError) -> String {
        index += 1
        let start = index
        var isASCII = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if isASCII { return String(decoding: raw, as: UTF8.self) }
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw failure("invalid UTF-8 in a string", at: start)
                }
                return text
            }
            if byte == UInt8(ascii: "\\") {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: bytes[start..<index])
                return try escapedString(from: start)
            }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        throw failure("unterminated string", at: start - 1)
    }

    /// The rest of a string that has escapes, collected in `scratch` from the first backslash.
    private mutating func escapedString(from start: Int) throws(JSONParseError) -> String {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                // Escapes add only whole UTF-8 sequences, so validating the lot checks the raw bytes between them.
                guard let text = String(validating: scratch, as: UTF8.self) else {
                    throw failure("invalid UTF-8 in a string", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try escape()
            case 0..<0x20:
                index -= 1
                throw failure("unescaped control character in a string")
            default:
                scratch.append(byte)
            }
        }
        throw failure("unterminated string", at: start - 1)
    }

    /// One escape after its backslash, appended to `scratch` as UTF-8.
    private mutating func escape() throws(JSONParseError) {
        guard index < bytes.count else { throw failure("unterminated string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xDC00...0xDFFF).contains(code) { throw failure("low surrogate without a high one", at: index - 6) }
            if (0xD800...0xDBFF).contains(code) {
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else {
                    throw failure("high surrogate without a low one", at: index - 6)
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("high surrogate without a low one", at: index - 12)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            // Surrogates are handled above, so every remaining code is a scalar.
            guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape", at: index - 6) }
            UTF8.encode(scalar) { scratch.append($0) }
        default:
            index -= 1
            throw failure("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("\\u needs four hex digits") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("\\u needs four hex digits")
            }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        return code
    }

    // MARK: - Numbers

    /// Exact powers of ten for the fast path, 1e0 through 1e22.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20,
        1e21, 1e22,
    ]

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, refused when beyond `Double`'s range.
    private mutating func number() throws(JSONParseError) -> Double {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var mantissa: UInt64 = 0
        var exponent = 0
        var isExact = true
        func digit(at index: Int) -> UInt64? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            return UInt64(bytes[index] - UInt8(ascii: "0"))
        }
        func accumulate(_ digit: UInt64) {
            if mantissa < 1 << 53 { mantissa = mantissa * 10 + digit } else { isExact = false }
        }
        guard let first = digit(at: index) else { throw failure("expected a digit") }
        index += 1
        if first == 0 {
            if digit(at: index) != nil { throw failure("leading zero in a number") }
        } else {
            accumulate(first)
            while let next = digit(at: index) {
                accumulate(next)
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(at: index) != nil else { throw failure("expected a digit after the decimal point") }
            while let next = digit(at: index) {
                accumulate(next)
                exponent -= 1
                index += 1
            }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentIsNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentIsNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard digit(at: index) != nil else { throw failure("expected a digit in the exponent") }
            var written = 0
            while let next = digit(at: index) {
                // Far past any Double either way; the slow path below reads the text itself.
                if written < 100_000 { written = written * 10 + Int(next) }
                index += 1
            }
            exponent += exponentIsNegative ? -written : written
        }
        var value: Double
        if isExact, mantissa < 1 << 53, exponent >= -22, exponent <= 22 {
            // Both operands are exact, so one correctly rounded operation gives the correctly rounded result.
            let scale = Self.powersOfTen[abs(exponent)]
            value = exponent < 0 ? Double(mantissa) / scale : Double(mantissa) * scale
            if negative { value = -value }
        } else {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            value = Double(text) ?? .infinity
        }
        guard value.isFinite else { throw failure("number out of range", at: start) }
        return value
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func failure(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? index)
    }
}

/// Why `JSONParser` refused its input, and the 0-based byte offset where it noticed.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public let offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason) at byte \(offset)" }
}
