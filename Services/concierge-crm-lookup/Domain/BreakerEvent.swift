import ConciergeJSON
import ConciergeModels
import Foundation

/// An opening or closing of a source's breaker as the outside is told of it: its type, and its data —
/// the source as `GET /v1/sources/{name}` shows it after the change (header values masked), then what
/// made the change.
enum BreakerEvent: Equatable {
    /// `failures` in a row opened the breaker; the source is skipped until `until`; `lastError` is
    /// how the last call failed.
    case opened(failures: Int, until: Date, lastError: String)
    case closed(by: Closing)

    /// What closed an open breaker.
    enum Closing: String {
        /// A call to the source succeeded (the trial after the cool-down, or one already under way).
        case success
        /// An administrator saved the source again (`PUT`).
        case update
        /// The source was deleted.
        case deletion
    }

    var type: String {
        switch self {
        case .opened: "source.breaker_opened"
        case .closed: "source.breaker_closed"
        }
    }

    func data(_ source: Source) throws -> [UInt8] {
        let sourceJSON = try JSONCoding.encode(source)
        var writer = JSONWriter(capacity: sourceJSON.count + 128)
        writer.beginObject()
        writer.members(of: sourceJSON)
        switch self {
        case .opened(let failures, let until, let lastError):
            writer.key("failures")
            writer.int(failures)
            writer.key("openUntil")
            writer.string(Timestamp.format(until))
            writer.key("lastError")
            writer.string(lastError)
        case .closed(let closing):
            writer.key("closedBy")
            writer.string(closing.rawValue)
        }
        writer.endObject()
        return writer.bytes
    }
}
