/// First-in-first-out lines of waiting conversations, one per (queue, channel). Removal from the
/// middle is lazy: an entry whose conversation no longer waits there with the same `since`
/// (released, assigned, moved, or queued again later) is skipped.
struct WaitingLines: Sendable {
    private struct Line: Sendable {
        var items: [(id: String, since: Int64)] = []
        var head = 0

        var isEmpty: Bool { head >= items.count }

        mutating func compact() {
            if head > 64 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
        }
    }

    private var lines: [String: Line] = [:]

    static func implicitKey(_ inboxID: String) -> String { "inbox:" + inboxID }

    private static func key(_ line: String, _ channel: String) -> String { line + "|" + channel }

    mutating func append(_ conversationID: String, since: Int64, line: String, channel: String) {
        lines[Self.key(line, channel), default: Line()].items.append((conversationID, since))
    }

    /// The first id still waiting in the line (per `isWaiting`), dropping stale ones on the way.
    mutating func peek(line: String, channel: String, isWaiting: (String, Int64) -> Bool) -> (id: String, since: Int64)?
    {
        let key = Self.key(line, channel)
        guard var current = lines[key] else { return nil }
        defer {
            current.compact()
            lines[key] = current.isEmpty ? nil : current
        }
        while !current.isEmpty {
            let entry = current.items[current.head]
            if isWaiting(entry.id, entry.since) { return entry }
            current.head += 1
        }
        return nil
    }

    /// All ids still waiting in the line, in order.
    func waiting(line: String, channel: String, isWaiting: (String, Int64) -> Bool) -> [(id: String, since: Int64)] {
        guard let current = lines[Self.key(line, channel)] else { return [] }
        return current.items[current.head...].filter { isWaiting($0.id, $0.since) }
    }
}
