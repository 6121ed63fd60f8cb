/// Every kept event of several feeds, merged in time order (`FeedEvent.precedes`). It holds one page
/// of each feed at a time, however long the feeds are; each feed's own events keep their `seq` order.
struct EventMerge {
    /// Gives a feed's page after a position (`nil`: from its oldest kept event).
    typealias Fetch = (_ feed: Int, _ after: Int64?) async throws -> EventFeed.Page

    /// Where each feed starts (`nil`: at its oldest kept event); one entry per feed.
    let starts: [Int64?]

    /// Emits the events in order until every feed is read, or `emit` returns `false` (nobody reads
    /// the output any more).
    /// - Returns: for each feed, the `seq` of its last event emitted, or `nil` when it had none.
    /// - Throws: what `fetch` throws, or `CancellationError` when the task is cancelled between pages.
    func run(fetch: Fetch, emit: (FeedEvent) -> Bool) async throws -> [Int64?] {
        var heads: [ArraySlice<FeedEvent>] = Array(repeating: [], count: starts.count)
        var positions = starts
        var more = Array(repeating: true, count: starts.count)
        var last: [Int64?] = Array(repeating: nil, count: starts.count)
        while true {
            for feed in starts.indices where heads[feed].isEmpty && more[feed] {
                try Task.checkCancellation()
                let page = try await fetch(feed, positions[feed])
                heads[feed] = page.events[...]
                positions[feed] = page.events.last?.seq ?? positions[feed]
                // An empty page with a cursor would be a service's mistake: stop rather than ask again.
                more[feed] = page.next != nil && !page.events.isEmpty
            }
            var earliest: (feed: Int, event: FeedEvent)?
            for feed in heads.indices {
                guard let event = heads[feed].first else { continue }
                if let current = earliest, !FeedEvent.precedes(event, current.event) { continue }
                earliest = (feed, event)
            }
            guard let (feed, event) = earliest else { return last }
            guard emit(event) else { return last }
            heads[feed].removeFirst()
            last[feed] = event.seq
        }
    }
}
