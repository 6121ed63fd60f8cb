import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation

/// Keeps one service's events coming for `concierge events --follow`, once the catch-up is printed:
/// prints its stream's events as they arrive, and when the stream ends (the service restarted, the
/// connection broke) opens it again after the last event printed, retrying every 0.5 s to 5 s until
/// it is back. Each interruption is told on stderr once, and so is the resumption.
struct EventFollower {
    let feed: EventFeed
    let printer: LinePrinter
    /// The `seq` of the last event of this feed printed (or the position the command started after):
    /// a new stream resumes after it, and nothing at or before it is printed again.
    var through: Int64?

    /// Follows until the task is cancelled (`true`) or stdout is closed (`false`).
    /// - Parameter stream: the stream opened before the catch-up, so that nothing committed during
    ///   it is missed (what the catch-up printed already is skipped).
    mutating func run(from stream: EventStream.Received) async -> Bool {
        var current: EventStream.Received? = stream
        var delay = 0.5
        var interrupted = false
        while !Task.isCancelled {
            if let stream = current {
                let why: String
                do {
                    for try await event in stream {
                        guard through.map({ event.envelope.seq > $0 }) ?? true else { continue }
                        guard printer.print(event.json, immediately: true) else { return false }
                        through = event.envelope.seq
                    }
                    why = "the service ended the stream"
                } catch HTTPClientError.connectionClosed {
                    why = "the connection closed"
                } catch let error as HTTPClientError {
                    why = FailureReason.of(error)
                } catch {
                    why = "\(error)"
                }
                current = nil
                if Task.isCancelled { break }
                if !interrupted { note("stream interrupted (\(why)); reconnecting") }
                interrupted = true
            }
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(delay * 2, 5)
            if Task.isCancelled { break }
            do {
                guard let reopened = try await reopen() else { return false }
                current = reopened
                delay = 0.5
                if interrupted { note("stream resumed" + (through.map { " after seq \($0)" } ?? "")) }
                interrupted = false
            } catch {
                // Still down: the interruption was told once; keep trying.
            }
        }
        return true
    }

    /// A stream after the last event printed; without one — nothing printed yet, or what follows it
    /// is no longer kept (410) — a stream from now, with the kept events printed first.
    /// - Returns: `nil` when stdout closed meanwhile.
    private mutating func reopen() async throws(ServiceError) -> EventStream.Received? {
        if let through {
            do {
                return try await feed.stream(after: through)
            } catch let error where error.status == 410 {
                note("events after seq \(through) are no longer kept; printing from the oldest kept")
            }
        }
        let stream = try await feed.stream(after: nil)
        var position: Int64?
        while true {
            let page = try await feed.page(after: position)
            for event in page.events where through.map({ event.seq > $0 }) ?? true {
                guard printer.print(event.json, immediately: true) else { return nil }
                through = event.seq
            }
            guard let next = page.next, !page.events.isEmpty else { return stream }
            position = next
        }
    }

    private func note(_ text: String) {
        Console.err("concierge events: \(feed.name): \(text)")
    }
}
