/// A type that writes its own JSON, for answers on hot paths where `JSONEncoder` costs more than
/// the rest of the request. Its output must equal what `Encodable` would produce.
/// Evidence: `Benchmarks/contacts.sh`, BENCHMARKS.md "Contacts service against the Hummingbird peer" ("What
/// it took"); equal to `JSONEncoder`: `JSONWriterTests` (`…MatchesTheEncoder`), `JSONFastPathFuzzTests`.
public protocol JSONWritable {
    func write(to writer: inout JSONWriter)
}

/// Appends JSON to a byte buffer: objects, arrays, escaped strings, numbers, booleans and null.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A key inside an object; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendString(value)
        needsComma = true
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes `"name": value`, or nothing when `value` is nil (the encoder's rule for optionals).
    public mutating func string(_ name: String, ifPresent value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func int64(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// An already-encoded JSON value, copied as it is (the caller vouches that it is valid JSON).
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// The members of an already-encoded compact JSON object (`{"a":1,"b":2}`, as our writers and
    /// `JSONCoding` make it), copied into the object being written: a resource's JSON, extended with
    /// members of its own without encoding the resource again.
    public mutating func members(of object: [UInt8]) {
        // `{}` has no members; otherwise everything between the braces, as it is.
        guard object.count > 2 else { return }
        separate()
        bytes.append(contentsOf: object[1..<(object.count - 1)])
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// A string-to-string object, keys sorted so the bytes are stable.
    public mutating func object(_ members: [String: String]) {
        beginObject()
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            self.key(key)
            string(value)
        }
        endObject()
    }

    public mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    public mutating func value(_ writable: some JSONWritable) {
        writable.write(to: &self)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        // Native strings are contiguous UTF-8: runs that need no escaping are copied whole.
        value.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                appendEscape(byte)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
        case 10: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
        case 13: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
        case 9: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
        }
    }
}
