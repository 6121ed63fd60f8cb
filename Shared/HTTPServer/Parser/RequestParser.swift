/// An incremental HTTP/1.1 request parser: feed it the connection's bytes, it consumes what it can
/// and reports what happened. A struct state machine with no I/O, so every bad input is a unit test.
public struct RequestParser: Sendable {
    public enum Event: Sendable {
        /// The head is complete and the client sent `Expect: 100-continue`: answer `100 Continue`.
        case expectsContinue
        /// A whole request; the parser is ready for the next one.
        case request(RequestHead, body: [UInt8])
        /// Body bytes of a request being spooled (its route streams large bodies to disk).
        case bodyChunk([UInt8])
        /// The end of a spooled request; its body came as `bodyChunk`s.
        case spooledRequest(RequestHead)
    }

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
    }

    public let limits: ParserLimits
    private var state = State.head
    private var head: RequestHead?
    private var body: [UInt8] = []
    private var bodyLimit = 0
    private var spooling = false
    /// The last chunk of a spooled fixed-length body was handed out; the end comes next.
    private var pendingEnd = false
    /// How far the current head has been scanned for its terminator, so a slow client costs O(n).
    private var scanned = 0
    /// Bytes of trailer lines read so far after a chunked body's last chunk.
    private var trailerBytes = 0

    public init(limits: ParserLimits = ParserLimits()) {
        self.limits = limits
    }

    /// True while part of a request head has arrived but not all of it (for the header-read timeout).
    public var isReadingHead: Bool {
        if case .head = state { return scanned > 0 }
        return false
    }

    /// True between a complete head and the end of its body (trailers included).
    public var isReadingBody: Bool {
        if case .head = state { return pendingEnd }
        return true
    }

    /// Bytes of the current request's body read so far, chunk framing and trailers included (for the
    /// body's minimum rate).
    public private(set) var bodyBytesRead = 0

    /// What to do with a request's body, decided from its head (by its route).
    public enum BodyHandling: Sendable, Equatable {
        /// Collected in memory, at most this many bytes (and at most `limits.maxBodyBytes`).
        case collect(maxBytes: Int)
        /// Handed over in `bodyChunk`s with no size limit (a route that spools uploads to disk).
        case spool
    }

    /// Consumes bytes from `buffer[index...]`; returns an event or `nil` when more bytes are needed.
    /// - Parameter body: how this head's body is taken; asked once per request.
    public mutating func parse(
        _ buffer: [UInt8], index: inout Int,
        body handling: (RequestHead) -> BodyHandling = { _ in .collect(maxBytes: .max) }
    ) throws(ParseError) -> Event? {
        if pendingEnd {
            pendingEnd = false
            return finish()
        }
        while true {
            switch state {
            case .head:
                guard let end = try findHeadEnd(buffer, from: index) else {
                    try checkPartialHead(buffer, index: index)
                    return nil
                }
                let parsed = try Self.parseHead(buffer, index..<end, limits: limits)
                index = end + 4
                scanned = 0
                bodyBytesRead = 0
                head = parsed
                body = []
                switch handling(parsed) {
                case .spool:
                    spooling = true
                    bodyLimit = Int.max
                case .collect(let maxBytes):
                    spooling = false
                    bodyLimit = min(limits.maxBodyBytes, maxBytes)
                }
                let framing = try Self.framing(of: parsed)
                switch framing {
                case .length(let length):
                    guard length <= self.bodyLimit else { throw .bodyTooLarge }
                    if length == 0 { return finish() }
                    if !spooling { body.reserveCapacity(length) }
                    state = .fixedBody(remaining: length)
                case .chunked:
                    trailerBytes = 0
                    state = .chunkSize
                }
                if parsed.header("expect")?.lowercased() == "100-continue", index == buffer.count {
                    return .expectsContinue
                }
            case .fixedBody(let remaining):
                let take = min(remaining, buffer.count - index)
                guard take > 0 else { return nil }
                let chunk = buffer[index..<index + take]
                index += take
                bodyBytesRead += take
                state = take == remaining ? .head : .fixedBody(remaining: remaining - take)
                if spooling {
                    if take == remaining { pendingEnd = true }
                    return .bodyChunk(Array(chunk))
                }
                body.append(contentsOf: chunk)
                if take == remaining { return finish() }
            case .chunkSize:
                guard let lineEnd = findCRLF(buffer, from: index, limit: limits.maxChunkLineBytes) else {
                    if buffer.count - index > limits.maxChunkLineBytes { throw .malformed("Chunk size line too long.") }
                    return nil
                }
                let size = try Self.chunkSize(buffer[index..<lineEnd])
                bodyBytesRead += lineEnd + 2 - index
                index = lineEnd + 2
                if size == 0 {
                    state = .trailers
                } else {
                    guard body.count + size <= self.bodyLimit else { throw .bodyTooLarge }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - index)
                guard take > 0 else { return nil }
                let chunk = buffer[index..<index + take]
                index += take
                bodyBytesRead += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                if spooling { return .bodyChunk(Array(chunk)) }
                body.append(contentsOf: chunk)
            case .chunkDataEnd:
                guard buffer.count - index >= 2 else { return nil }
                guard buffer[index] == 13, buffer[index + 1] == 10 else {
                    throw .malformed("Chunk data not followed by CRLF.")
                }
                index += 2
                bodyBytesRead += 2
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped; an empty line ends the message. Their total is capped,
                // or a client could send trailer lines for as long as it liked.
                let allowance = limits.maxTrailerBytes - trailerBytes
                guard let lineEnd = findCRLF(buffer, from: index, limit: allowance) else {
                    if buffer.count - index > allowance { throw .trailersTooLarge }
                    return nil
                }
                trailerBytes += lineEnd + 2 - index
                bodyBytesRead += lineEnd + 2 - index
                guard trailerBytes <= limits.maxTrailerBytes else { throw .trailersTooLarge }
                let empty = lineEnd == index
                index = lineEnd + 2
                if empty { return finish() }
            }
        }
    }

    private mutating func finish() -> Event? {
        state = .head
        guard let head else { return nil }
        self.head = nil
        if spooling {
            spooling = false
            return .spooledRequest(head)
        }
        defer { body = [] }
        return .request(head, body: body)
    }

    /// Where the head's final CRLFCRLF starts. A line ended by a bare LF is refused as soon as that LF
    /// arrives (RFC 9112 §2.2 lets a server reject it), rather than left waiting for a CRLFCRLF the
    /// client will never send.
    private mutating func findHeadEnd(_ buffer: [UInt8], from index: Int) throws(ParseError) -> Int? {
        var i = index + scanned
        while i < buffer.count {
            if buffer[i] == 10 {
                guard i > index, buffer[i - 1] == 13 else {
                    throw .malformed("A line ends in a bare LF; lines end in CRLF.")
                }
                // The LF two back passed this same check, so a CR precedes it: CR LF CR LF.
                if i - index >= 3 && buffer[i - 2] == 10 { return i - 3 }
            }
            i += 1
        }
        scanned = buffer.count - index
        return nil
    }

    private func findCRLF(_ buffer: [UInt8], from index: Int, limit: Int) -> Int? {
        var i = index
        let end = min(buffer.count - 1, index + limit + 1)
        while i < end {
            if buffer[i] == 13 && buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// Applies the head-size limits to bytes still waiting for their terminator.
    private func checkPartialHead(_ buffer: [UInt8], index: Int) throws(ParseError) {
        let pending = buffer.count - index
        guard pending > limits.maxHeadBytes + 4 else { return }
        // No CRLF yet in the first line means the request target itself is too long.
        if findCRLF(buffer, from: index, limit: limits.maxHeadBytes) == nil { throw .uriTooLong }
        throw .headersTooLarge
    }
}
