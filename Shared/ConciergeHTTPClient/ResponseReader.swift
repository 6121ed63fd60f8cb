import Foundation

/// Parses one HTTP/1.1 answer from the bytes received so far: status line, headers, and a body
/// framed by Content-Length, chunked encoding, or the end of the connection.
struct ResponseReader {
    let maxBodyBytes: Int
    let isHead: Bool

    /// Returns the response, bytes consumed and whether the connection may be reused, or `nil` if incomplete.
    func parse(_ buffer: [UInt8]) throws(HTTPClientError) -> (ClientResponse, Int, Bool)? {
        guard let headEnd = find(buffer, [13, 10, 13, 10], from: 0) else {
            if buffer.count > 64 * 1024 { throw .malformedResponse("header block too large") }
            return nil
        }
        var (status, headers, keepAlive) = try parseHead(buffer[0..<headEnd])
        var index = headEnd + 4
        let response = { (body: [UInt8]) in ClientResponse(status: status, headers: headers, body: body) }
        if isHead || status == 204 || status == 304 || (100..<200).contains(status) {
            if (100..<200).contains(status) {
                // An interim answer (100 Continue): skip it and parse what follows.
                guard let next = try parse(Array(buffer[index...])) else { return nil }
                return (next.0, index + next.1, next.2)
            }
            return (response([]), index, keepAlive)
        }
        let transferEncoding = headers.first { $0.name == "transfer-encoding" }?.value.lowercased()
        if transferEncoding?.contains("chunked") == true {
            var body: [UInt8] = []
            while true {
                guard let lineEnd = find(buffer, [13, 10], from: index) else { return nil }
                let line = String(decoding: buffer[index..<lineEnd], as: UTF8.self)
                guard let size = Int(line.split(separator: ";").first ?? "", radix: 16), size >= 0 else {
                    throw .malformedResponse("bad chunk size")
                }
                index = lineEnd + 2
                if size == 0 {
                    // Skip trailers up to the empty line.
                    while true {
                        guard let end = find(buffer, [13, 10], from: index) else { return nil }
                        let empty = end == index
                        index = end + 2
                        if empty { break }
                    }
                    return (response(body), index, keepAlive)
                }
                guard body.count + size <= maxBodyBytes else { throw .responseTooLarge }
                guard buffer.count >= index + size + 2 else { return nil }
                body.append(contentsOf: buffer[index..<index + size])
                index += size + 2
            }
        }
        if let lengthText = headers.first(where: { $0.name == "content-length" })?.value {
            guard let length = Int(lengthText), length >= 0 else { throw .malformedResponse("bad Content-Length") }
            guard length <= maxBodyBytes else { throw .responseTooLarge }
            guard buffer.count >= index + length else { return nil }
            return (response(Array(buffer[index..<index + length])), index + length, keepAlive)
        }
        // No framing: the body runs to the end of the connection.
        keepAlive = false
        if buffer.count - index > maxBodyBytes { throw .responseTooLarge }
        return nil
    }

    /// At end of stream: a body delimited by the close, or nothing usable.
    func finishAtEOF(_ buffer: [UInt8]) throws(HTTPClientError) -> ClientResponse? {
        guard let headEnd = find(buffer, [13, 10, 13, 10], from: 0) else { return nil }
        let (status, headers, _) = try parseHead(buffer[0..<headEnd])
        let framed = headers.contains { $0.name == "content-length" || $0.name == "transfer-encoding" }
        guard !framed else { return nil }
        return ClientResponse(status: status, headers: headers, body: Array(buffer[(headEnd + 4)...]))
    }

    func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPClientError) -> (Int, [(name: String, value: String)], Bool) {
        let lines = head.split(separator: 10, omittingEmptySubsequences: false).map {
            String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self)
        }
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.") else {
            throw .malformedResponse("bad status line")
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]), (100...999).contains(status) else {
            throw .malformedResponse("bad status code")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedResponse("bad header line") }
            let name = line[..<colon].lowercased()
            let value = Self.trimmed(line[line.index(after: colon)...])
            headers.append((name, value))
        }
        let connection = headers.first { $0.name == "connection" }?.value.lowercased()
        let keepAlive = statusLine.hasPrefix("HTTP/1.1") ? connection != "close" : connection == "keep-alive"
        return (status, headers, keepAlive)
    }

    /// Without optional whitespace (spaces and tabs, RFC 9110) at either end; no Foundation on this hot path.
    private static func trimmed(_ text: Substring) -> String {
        var start = text.startIndex
        var end = text.endIndex
        while start < end, text[start] == " " || text[start] == "\t" { start = text.index(after: start) }
        while start < end {
            let before = text.index(before: end)
            guard text[before] == " " || text[before] == "\t" else { break }
            end = before
        }
        return String(text[start..<end])
    }

    func find(_ buffer: [UInt8], _ pattern: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        var i = start
        while i <= buffer.count - pattern.count {
            if buffer[i] == pattern[0] && buffer[i + 1] == pattern[1]
                && (pattern.count == 2 || (buffer[i + 2] == pattern[2] && buffer[i + 3] == pattern[3]))
            {
                return i
            }
            i += 1
        }
        return nil
    }
}
