import ConciergeHTTPClient
import ConciergeModels
import Foundation

/// Reads Server-Sent Events (the WHATWG HTML standard's format) from a byte stream: messages are
/// separated by a blank line; `data:` lines join with line breaks; comments (`:`) are skipped.
public struct ServerSentEventParser: Sendable {
    public struct Message: Sendable, Equatable {
        public var id: String?
        public var event: String?
        public var data: String
    }

    private var buffer: [UInt8] = []

    public init() {}

    /// The complete messages `bytes` finish.
    public mutating func feed(_ bytes: [UInt8]) -> [Message] {
        buffer.append(contentsOf: bytes)
        var messages: [Message] = []
        var start = 0
        var index = 0
        while index + 1 < buffer.count {
            if buffer[index] == 10 && buffer[index + 1] == 10 {
                if let message = Self.parse(buffer[start..<index]) { messages.append(message) }
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        buffer.removeFirst(start)
        return messages
    }

    private static func parse(_ block: ArraySlice<UInt8>) -> Message? {
        var message = Message(id: nil, event: nil, data: "")
        var hasData = false
        for line in block.split(separator: 10, omittingEmptySubsequences: false) {
            let text = String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
            if text.hasPrefix(":") || text.isEmpty { continue }
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let field = String(parts[0])
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch field {
            case "id": message.id = value
            case "event": message.event = value
            case "data":
                message.data += (hasData ? "\n" : "") + value
                hasData = true
            default: continue
            }
        }
        return hasData ? message : nil
    }
}

extension ServiceClient {
    /// The service's events as they commit (`GET /v1/events` as Server-Sent Events), after `after`
    /// (`nil`: from now on), of the `types` given. The sequence ends when the service ends the stream
    /// or goes quiet for `idleTimeout` seconds (it sends a keep-alive every 10 s); resume with the last
    /// event's `seq` as `after`. Breaking out of the loop closes the stream.
    public func eventStream(after: Int64? = nil, types: [String]? = nil, idleTimeout: Double = 35)
        async throws(ServiceError) -> EventStream
    {
        var headers: [(name: String, value: String)] = [("Accept", "text/event-stream")]
        if let tokens { headers.append(("Authorization", "Bearer \(tokens.token)")) }
        if let after { headers.append(("Last-Event-ID", String(after))) }
        let request = ClientRequest(
            method: "GET", url: baseURL + "/v1/events" + queryString([("types", types?.joined(separator: ","))]),
            headers: headers)
        let response: StreamingResponse
        do {
            response = try await http.stream(request, idleTimeout: idleTimeout)
        } catch {
            throw .unreachable(error)
        }
        guard (200..<300).contains(response.status) else {
            var body: [UInt8] = []
            do {
                for try await chunk in response.body where body.count < 64 * 1024 { body += chunk }
            } catch {}
            throw .problem(
                Self.problem(from: ClientResponse(status: response.status, headers: response.headers, body: body)))
        }
        return EventStream(response: response)
    }
}

/// The events of one stream, in order, as an async sequence. Leaving the loop that reads it (or
/// dropping its iterator) closes the connection.
public struct EventStream: AsyncSequence, Sendable {
    public typealias Element = EventEnvelope
    let response: StreamingResponse

    /// Closes the stream now.
    public func close() { response.close() }

    public func makeAsyncIterator() -> Iterator {
        Iterator(received: received.makeAsyncIterator())
    }

    public struct Iterator: AsyncIteratorProtocol {
        var received: Received.Iterator

        public mutating func next() async throws -> EventEnvelope? {
            try await received.next()?.envelope
        }
    }

    /// The same events, each with its JSON as the service sent it: for a reader that passes events on
    /// unchanged (`concierge events` prints them), where decoding and encoding again would reorder keys.
    public var received: Received { Received(response: response) }

    /// The stream's events with their JSON (see `received`).
    public struct Received: AsyncSequence, Sendable {
        public typealias Element = ReceivedEvent
        let response: StreamingResponse

        public func makeAsyncIterator() -> Iterator {
            Iterator(chunks: response.body.makeAsyncIterator(), closer: Closer(response: response))
        }

        public struct Iterator: AsyncIteratorProtocol {
            var chunks: AsyncThrowingStream<[UInt8], any Error>.Iterator
            let closer: Closer
            var parser = ServerSentEventParser()
            var ready: [ReceivedEvent] = []

            init(chunks: AsyncThrowingStream<[UInt8], any Error>.Iterator, closer: Closer) {
                self.chunks = chunks
                self.closer = closer
            }

            public mutating func next() async throws -> ReceivedEvent? {
                while ready.isEmpty {
                    guard let chunk = try await chunks.next() else { return nil }
                    ready = parser.feed(chunk).compactMap { message in
                        (try? JSONDecoder().decode(EventEnvelope.self, from: Data(message.data.utf8))).map {
                            ReceivedEvent(envelope: $0, json: message.data)
                        }
                    }
                }
                return ready.removeFirst()
            }
        }
    }

    /// Closes the connection when the last iterator copy goes away.
    final class Closer: Sendable {
        let response: StreamingResponse
        init(response: StreamingResponse) { self.response = response }
        deinit { response.close() }
    }
}

/// One event as a stream delivered it: decoded, and its JSON exactly as the service wrote it.
public struct ReceivedEvent: Sendable, Equatable {
    public let envelope: EventEnvelope
    /// The event's JSON, byte for byte the `data` of its Server-Sent Events message (one line).
    public let json: String

    public init(envelope: EventEnvelope, json: String) {
        self.envelope = envelope
        self.json = json
    }
}
