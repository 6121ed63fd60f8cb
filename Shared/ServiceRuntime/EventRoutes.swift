import ConciergeAuth
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import HTTPServer

/// `GET /v1/events`: a service's events oldest first — a page, a long poll (`wait`), or a stream of
/// Server-Sent Events (`Accept: text/event-stream`). An agent sees only the events whose audience it
/// is (its conversations' and its own record's); managers, administrators and services see all.
struct EventRoutes: Sendable {
    let log: EventLog

    /// Longest `wait` of a long poll, in seconds.
    static let maxWaitSeconds = 30.0
    /// Events per read while a stream catches up.
    static let catchUpPage = 200

    func register(on router: Router) {
        router.get("/v1/events", access: .agents, events)
    }

    @Sendable func events(_ request: Request, _ context: RequestContext) async throws -> Response {
        let claims = try context.requireClaims()
        let query = request.query
        let filter = try EventFilter(types: query["types"], audience: claims.role == .agent ? claims.sub : nil)
        let paging = try Paging(query: query)
        var after = try Self.position(query["after"], field: "after") ?? Self.position(paging.cursor, field: "cursor")
        if request.head.header("accept").map(Self.acceptsEventStream) ?? false {
            after = try Self.position(request.head.header("last-event-id"), field: "Last-Event-ID") ?? after
            return try stream(after: after, filter: filter)
        }
        let wait = try Self.waitSeconds(query["wait"])
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let page = try read(after: after, filter: filter, limit: paging.limit)
            let left = deadline.timeIntervalSinceNow
            if !page.events.isEmpty || left <= 0 { return Self.answer(page) }
            // Nothing the reader wants up to what this read saw: wait past it.
            after = page.scannedThrough
            await log.hub.wait(filter: filter, scannedThrough: page.scannedThrough, seconds: left)
            if log.hub.isClosed { return Self.answer(try read(after: after, filter: filter, limit: paging.limit)) }
        }
    }

    /// Streams what is kept after `after` (nothing old without one: the stream starts now), then
    /// every new event the filter wants, as it commits.
    private func stream(after: Int64?, filter: EventFilter) throws -> Response {
        let start = try after ?? log.lastSeq()
        // A cursor past retention is refused before the stream begins.
        _ = try read(after: start, filter: filter, limit: 1)
        let stream = ResponseStream()
        // How long a client waits before it reconnects (then with Last-Event-ID).
        stream.send(Array("retry: 2000\n\n".utf8))
        let log = self.log
        let catchUp = Task {
            var position = start
            while !stream.isClosed {
                let page: EventLog.Page
                do {
                    page = try log.page(after: position, filter: filter, limit: Self.catchUpPage)
                } catch {
                    stream.finish()
                    return
                }
                for event in page.events where !stream.send(event.serverSentEvent) { return }
                position = page.scannedThrough
                if page.hasMore { continue }
                if let id = log.hub.goLive(filter: filter, scannedThrough: position, sink: { stream.send($0) }) {
                    stream.onClose { log.hub.unsubscribe(id, audience: filter.audience) }
                    return
                }
                if log.hub.isClosed {
                    stream.finish()
                    return
                }
            }
        }
        stream.onClose { catchUp.cancel() }
        return .stream(stream, contentType: "text/event-stream; charset=utf-8")
    }

    private func read(after: Int64?, filter: EventFilter, limit: Int) throws -> EventLog.Page {
        do {
            return try log.page(after: after, filter: filter, limit: limit)
        } catch let gone as EventLog.Gone {
            throw Problem(
                status: 410, title: "Gone",
                detail:
                    "Events after \(after ?? 0) are no longer kept (the oldest kept is \(gone.oldestKept)): read the resources again, then follow the feed from its newest event."
            )
        }
    }

    private static func answer(_ page: EventLog.Page) -> Response {
        var writer = JSONWriter(capacity: page.events.reduce(64) { $0 + $1.data.count + 160 })
        writer.beginObject()
        writer.key("items")
        writer.beginArray()
        for event in page.events { writer.value(event) }
        writer.endArray()
        writer.key("nextCursor")
        writer.string(page.hasMore ? page.events.last.map { String($0.seq) } : nil)
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    static func acceptsEventStream(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { range in
            range.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "text/event-stream"
        }
    }

    static func position(_ text: String?, field: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw Problem.badRequest("\(field) is the seq of an event (a whole number of 0 or more).", field: field)
        }
        return value
    }

    static func waitSeconds(_ text: String?) throws -> Double {
        guard let text, !text.isEmpty else { return 0 }
        guard let value = Double(text), value.isFinite, (0...maxWaitSeconds).contains(value) else {
            throw Problem.badRequest("wait is a number of seconds from 0 to 30.", field: "wait")
        }
        return value
    }
}
