extension RequestParser {
    enum Framing {
        case length(Int)
        case chunked
    }

    /// Parses `METHOD SP target SP HTTP/1.x CRLF (name: value CRLF)*` in `range` (without the final CRLFCRLF).
    static func parseHead(_ buffer: [UInt8], _ range: Range<Int>, limits: ParserLimits) throws(ParseError)
        -> RequestHead
    {
        var i = range.lowerBound
        // Ignore leading empty lines (RFC 9112 §2.2).
        while i + 1 < range.upperBound, buffer[i] == 13, buffer[i + 1] == 10 { i += 2 }
        guard range.upperBound - i <= limits.maxHeadBytes else {
            let firstLineEnd = lineEnd(buffer, from: i, to: range.upperBound)
            if firstLineEnd - i > limits.maxURLBytes { throw .uriTooLong }
            throw .headersTooLarge
        }
        let requestLineEnd = lineEnd(buffer, from: i, to: range.upperBound)
        let line = buffer[i..<requestLineEnd]
        guard let firstSpace = line.firstIndex(of: 32) else { throw .malformed("Request line has no target.") }
        guard let lastSpace = line.lastIndex(of: 32), lastSpace > firstSpace else {
            throw .malformed("Request line has no HTTP version.")
        }
        let methodBytes = buffer[i..<firstSpace]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenByte) else { throw .malformed("Invalid method.") }
        var targetBytes = buffer[(firstSpace + 1)..<lastSpace]
        guard targetBytes.count <= limits.maxURLBytes else { throw .uriTooLong }
        guard let first = targetBytes.first, targetBytes.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw .malformed("Invalid request target.")
        }
        if first != UInt8(ascii: "/") && !targetBytes.elementsEqual("*".utf8) {
            targetBytes = try originForm(ofAbsolute: targetBytes)
        }
        let version = buffer[(lastSpace + 1)..<requestLineEnd]
        let minor: Int
        if version.elementsEqual("HTTP/1.1".utf8) {
            minor = 1
        } else if version.elementsEqual("HTTP/1.0".utf8) {
            minor = 0
        } else {
            throw .malformed("Only HTTP/1.0 and HTTP/1.1 are supported.")
        }

        var headers: [(name: String, value: String)] = []
        var hosts = 0
        i = requestLineEnd + 2
        while i < range.upperBound {
            let end = lineEnd(buffer, from: i, to: range.upperBound)
            guard headers.count < limits.maxHeaderCount else { throw .tooManyHeaders }
            let field = try parseField(buffer[i..<end])
            if field.name == "host" {
                hosts += 1
                guard field.value.utf8.allSatisfy(isHostByte) else { throw .malformed("Invalid Host header.") }
            }
            headers.append(field)
            i = end + 2
        }
        // RFC 9112 §3.2: the one Host names the origin; none (in HTTP/1.1) or two leave it unknown or ambiguous.
        guard hosts <= 1 else { throw .malformed("More than one Host header.") }
        guard hosts == 1 || minor == 0 else { throw .malformed("An HTTP/1.1 request needs a Host header.") }
        return RequestHead(
            method: String(decoding: methodBytes, as: UTF8.self),
            target: String(decoding: targetBytes, as: UTF8.self),
            minorVersion: minor,
            headers: headers)
    }

    /// The path and query of an absolute-form target (`http://host:8080/v1/x?y=1` → `/v1/x?y=1`), which a
    /// server must accept (RFC 9112 §3.2.2); only `http` and `https`, with a host and no user info.
    private static func originForm(ofAbsolute target: ArraySlice<UInt8>) throws(ParseError) -> ArraySlice<UInt8> {
        let invalid = ParseError.malformed("Invalid request target.")
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")) else { throw invalid }
        let scheme = target[target.startIndex..<colon]
        guard
            scheme.elementsEqual("http".utf8, by: { $0 | 0x20 == $1 })
                || scheme.elementsEqual("https".utf8, by: { $0 | 0x20 == $1 }),
            target[colon...].starts(with: "://".utf8)
        else { throw invalid }
        let authorityStart = colon + 3
        let pathStart =
            target[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
            ?? target.endIndex
        let authority = target[authorityStart..<pathStart]
        guard !authority.isEmpty, authority.allSatisfy(isHostByte) else { throw invalid }
        let rest = target[pathStart...]
        if rest.first == UInt8(ascii: "/") { return rest }
        return ArraySlice("/".utf8) + rest  // no path: the root, before any query
    }

    /// A byte of `uri-host [ ":" port ]` (RFC 3986 reg-name, IP literal or IPv4 address): no user info, path or space.
    static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
            UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
            UInt8(ascii: "["),
            UInt8(ascii: "]"):
            true
        default: false
        }
    }

    private static func lineEnd(_ buffer: [UInt8], from start: Int, to limit: Int) -> Int {
        var j = start
        while j + 1 < limit, !(buffer[j] == 13 && buffer[j + 1] == 10) { j += 1 }
        return j + 1 < limit ? j : limit
    }

    private static func parseField(_ line: ArraySlice<UInt8>) throws(ParseError) -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformed("Header line without a colon.")
        }
        let name = line[line.startIndex..<colon]
        // Whitespace before the colon or an obs-fold continuation line are smuggling vectors: refuse.
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .malformed("Invalid header name.") }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
            throw .malformed("Invalid character in header value.")
        }
        return (lowercasedASCII(name), String(decoding: value, as: UTF8.self))
    }

    static func framing(of head: RequestHead) throws(ParseError) -> Framing {
        var contentLength: Int?
        var transferEncoding: String?
        for (name, value) in head.headers {
            if name == "content-length" {
                // A list ("5, 5") or repeated header must agree on one value.
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let trimmed = part.trimmingSpaces
                    guard !trimmed.isEmpty, trimmed.utf8.count <= 18, trimmed.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                        let length = Int(trimmed)
                    else { throw .malformed("Invalid Content-Length.") }
                    if let previous = contentLength, previous != length {
                        throw .ambiguousFraming("Two different Content-Length values.")
                    }
                    contentLength = length
                }
            } else if name == "transfer-encoding" {
                transferEncoding = (transferEncoding.map { $0 + "," } ?? "") + value
            }
        }
        if let transferEncoding {
            guard contentLength == nil else {
                throw .ambiguousFraming("Both Content-Length and Transfer-Encoding were sent.")
            }
            let codings = transferEncoding.lowercased().split(separator: ",").map { $0.trimmingSpaces }
            guard codings == ["chunked"] else { throw .unsupportedTransferEncoding }
            guard head.minorVersion == 1 else { throw .malformed("Chunked encoding needs HTTP/1.1.") }
            return .chunked
        }
        return .length(contentLength ?? 0)
    }

    static func chunkSize(_ line: ArraySlice<UInt8>) throws(ParseError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case 48...57: value = Int(byte) - 48
            case 65...70: value = Int(byte) - 55
            case 97...102: value = Int(byte) - 87
            case 59, 32, 9:  // ';' starts chunk extensions, which are ignored
                guard digits > 0 else { throw .malformed("Invalid chunk size.") }
                return size
            default: throw .malformed("Invalid chunk size.")
            }
            digits += 1
            guard digits <= 15 else { throw .bodyTooLarge }
            size = size * 16 + value
        }
        guard digits > 0 else { throw .malformed("Invalid chunk size.") }
        return size
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    private static func lowercasedASCII(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.lazy.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (the only whitespace HTTP allows around values).
    public var trimmingSpaces: String {
        let text = Substring(self)
        let utf8 = text.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, utf8[start] == 32 || utf8[start] == 9 { start = utf8.index(after: start) }
        while end > start {
            let before = utf8.index(before: end)
            guard utf8[before] == 32 || utf8[before] == 9 else { break }
            end = before
        }
        return String(text[start..<end])
    }
}
