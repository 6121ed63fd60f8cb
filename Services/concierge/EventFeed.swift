import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation

/// One event as `concierge events` prints it: its JSON as the service sent it, and what orders it.
struct FeedEvent: Sendable, Equatable {
    let service: String
    let seq: Int64
    /// RFC 3339 UTC with milliseconds, one fixed width: its text sorts as its time.
    let occurredAt: String
    let type: String
    let json: String

    init(service: String, seq: Int64, occurredAt: String, type: String, json: String) {
        self.service = service
        self.seq = seq
        self.occurredAt = occurredAt
        self.type = type
        self.json = json
    }

    init(_ envelope: EventEnvelope, json: String) {
        self.init(
            service: envelope.service, seq: envelope.seq, occurredAt: envelope.occurredAt, type: envelope.type,
            json: json)
    }

    /// Time order across services: `occurredAt`, then the service's name, then `seq` — what
    /// `jq -s 'sort_by(.occurredAt, .service, .seq)'` would make of the lines.
    static func precedes(_ a: FeedEvent, _ b: FeedEvent) -> Bool {
        (a.occurredAt, a.service, a.seq) < (b.occurredAt, b.service, b.seq)
    }
}

/// One service's event feed (`GET /v1/events`) as the CLI reads it: pages of kept events, oldest
/// first, and the live stream.
struct EventFeed: Sendable {
    /// A page of events and where the next one starts (`nil`: this was the last).
    struct Page: Sendable, Equatable {
        var events: [FeedEvent]
        var next: Int64?
    }

    /// Events per page: the most the feed gives.
    static let pageSize = 500

    /// `contacts`, `conversations`, `routing` or `crm-lookup`.
    let name: String
    let client: ServiceClient
    /// The `types` filter as given (`conversation.*,agent.created`), or `nil` for every type.
    let types: String?

    /// The kept events after `after` (`nil`: from the oldest kept), at most `pageSize`.
    func page(after: Int64?) async throws(ServiceError) -> Page {
        let path =
            "/v1/events"
            + queryString([
                ("after", after.map(String.init)), ("types", types), ("limit", String(Self.pageSize)),
            ])
        let response = try await client.raw("GET", path)
        guard response.isSuccess else { throw .problem(ServiceClient.problem(from: response)) }
        return try Self.page(from: response.body)
    }

    /// Reads a page's JSON, keeping each event's text as it came.
    static func page(from body: [UInt8]) throws(ServiceError) -> Page {
        let invalid = ServiceError.invalidResponse("the answer is not a page of events")
        guard let document = try? JSONParser.parse(body).objectValue, let items = document["items"]?.arrayValue,
            let raw = RawJSON.objects(inArray: "items", of: body), raw.count == items.count
        else { throw invalid }
        var events: [FeedEvent] = []
        for text in raw {
            guard let envelope = try? JSONCoding.decode(EventEnvelope.self, from: Array(text)) else { throw invalid }
            events.append(FeedEvent(envelope, json: String(decoding: text, as: UTF8.self)))
        }
        let next: Int64?
        switch document["nextCursor"] {
        case .string(let cursor)?:
            guard let position = Int64(cursor) else { throw invalid }
            next = position
        default: next = nil
        }
        return Page(events: events, next: next)
    }

    /// The events committed after `after` (`nil`: from the moment the stream opens), as they commit.
    func stream(after: Int64?) async throws(ServiceError) -> EventStream.Received {
        let list = types.map { $0.split(separator: ",").map(String.init) }
        return try await client.eventStream(after: after, types: list).received
    }
}
