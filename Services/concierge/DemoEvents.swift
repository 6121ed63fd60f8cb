import ConciergeClients
import Foundation

/// What the demo's day told the outside: the events the services committed while it played, read
/// from their feeds (`GET /v1/events`) and summed up per service and type.
struct DemoEvents {
    let feeds: [EventFeed]

    /// The `seq` of each feed's newest kept event (`nil`: it keeps none), read before the day so that
    /// the summary counts only the day's events. The feed has no "newest" query, so this walks what
    /// is kept, 500 a page: quick on the suites a demo runs against.
    func ends() async throws(ServiceError) -> [Int64?] {
        var ends: [Int64?] = []
        for feed in feeds {
            var end: Int64?
            while true {
                let page = try await feed.page(after: end)
                end = page.events.last?.seq ?? end
                guard page.next != nil, !page.events.isEmpty else { break }
            }
            ends.append(end)
        }
        return ends
    }

    /// The events after `ends`, in the order `concierge events` prints them.
    func events(after ends: [Int64?]) async throws -> [FeedEvent] {
        var events: [FeedEvent] = []
        _ = try await EventMerge(starts: ends).run(
            fetch: { feed, position in try await feeds[feed].page(after: position) },
            emit: { event in
                events.append(event)
                return true
            })
        return events
    }

    /// A few lines: how many events, and per service the count of each type in order of first appearance.
    static func summary(_ events: [FeedEvent]) -> [String] {
        guard !events.isEmpty else { return ["The day told the outside nothing: no service has kept an event of it."] }
        var lines = ["What the day told the outside: \(events.count) events in the services' feeds"]
        var services: [String] = []
        var counts: [String: [(type: String, count: Int)]] = [:]
        for event in events {
            let type = event.type
            if counts[event.service] == nil { services.append(event.service) }
            var types = counts[event.service, default: []]
            if let index = types.firstIndex(where: { $0.type == type }) {
                types[index].count += 1
            } else {
                types.append((type, 1))
            }
            counts[event.service] = types
        }
        let width = (services.map(\.count).max() ?? 0) + 2
        for service in services {
            let types = (counts[service] ?? []).map { "\($0.type) ×\($0.count)" }.joined(separator: ", ")
            lines.append("   " + service.padding(toLength: width, withPad: " ", startingAt: 0) + types)
        }
        lines.append("   `concierge events` prints them as JSON lines; `--follow` streams them as they happen.")
        return lines
    }
}
