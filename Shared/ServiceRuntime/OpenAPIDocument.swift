import ConciergeModels

/// A service's OpenAPI document as `GET /openapi.json` serves it: the checked-in file, byte for byte,
/// but for its top-level `servers`, which names where this service is reached — the address the
/// document was fetched from (the request's `Host`) and the address it listens on (`HOST`, `PORT`) —
/// instead of the defaults written in the file.
struct OpenAPIDocument: Sendable {
    /// The file up to the value of `servers`, and from the end of it.
    private let head: [UInt8]
    private let tail: [UInt8]

    private struct Server: Encodable {
        let url: String
        let description: String
    }

    /// - Parameter bytes: the document, a JSON object; one without `servers` gets one as its first member.
    init(_ bytes: [UInt8]) {
        if let range = Self.serversValue(in: bytes) {
            head = Array(bytes[..<range.lowerBound])
            tail = Array(bytes[range.upperBound...])
        } else if let open = bytes.firstIndex(of: UInt8(ascii: "{")) {
            let rest = bytes[(open + 1)...]
            let isEmpty = rest.first { !Self.isSpace($0) } == UInt8(ascii: "}")
            head = Array(bytes[...open]) + Array(#""servers": "#.utf8)
            tail = (isEmpty ? [] : Array(",".utf8)) + Array(rest)
        } else {
            head = bytes
            tail = []
        }
    }

    /// The document naming `requestHost` (the `Host` the request was sent to, if any) and the listening
    /// address. A wildcard `HOST` (`0.0.0.0`) is no address to call, and port 0 is not known here: those
    /// are named only through `Host`, or as `127.0.0.1` when a request had none.
    func served(requestHost: String?, host: String, port: Int) -> [UInt8] {
        var servers: [Server] = []
        if let requestHost, !requestHost.isEmpty {
            servers.append(Server(url: "http://\(requestHost)", description: "Where this document was fetched from."))
        }
        if port != 0 {
            let name = host == "0.0.0.0" ? (servers.isEmpty ? "127.0.0.1" : nil) : host
            if let name, !servers.contains(where: { $0.url == "http://\(name):\(port)" }) {
                servers.append(
                    Server(
                        url: "http://\(name):\(port)",
                        description: "Where the service listens (its HOST and PORT settings)."))
            }
        }
        let value = (try? JSONCoding.encode(servers)) ?? Array("[]".utf8)
        return head + value + tail
    }

    // MARK: - Finding `servers` without rewriting the rest

    /// The byte range of the top-level member `servers`' value, if the document has one.
    static func serversValue(in bytes: [UInt8]) -> Range<Int>? {
        var i = skipSpace(bytes, 0)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            i = skipSpace(bytes, i)
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            let keyEnd = endOfString(bytes, i)
            let key = bytes[i..<min(keyEnd, bytes.count)]
            i = skipSpace(bytes, keyEnd)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipSpace(bytes, i + 1)
            let valueEnd = endOfValue(bytes, valueStart)
            guard valueEnd <= bytes.count else { return nil }
            if key.elementsEqual(#""servers""#.utf8) { return valueStart..<valueEnd }
            i = skipSpace(bytes, valueEnd)
            guard i < bytes.count, bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func skipSpace(_ bytes: [UInt8], _ start: Int) -> Int {
        var i = start
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        return i
    }

    /// Just past the closing quote of the string opening at `start`.
    private static func endOfString(_ bytes: [UInt8], _ start: Int) -> Int {
        var i = start + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return bytes.count + 1
    }

    /// Just past the value starting at `start`: a string, an object or array (nesting and strings in
    /// it followed), or a literal.
    private static func endOfValue(_ bytes: [UInt8], _ start: Int) -> Int {
        guard start < bytes.count else { return bytes.count + 1 }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    i = endOfString(bytes, i)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return bytes.count + 1
        default:
            var i = start
            while i < bytes.count, !isSpace(bytes[i]), ![UInt8(ascii: ","), UInt8(ascii: "}")].contains(bytes[i]) {
                i += 1
            }
            return i
        }
    }
}
