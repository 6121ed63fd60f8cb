import ConciergeModels
import Foundation
import Storage

extension ConversationStore {
    struct ReportFilters {
        var from: String?
        var to: String?
        var tag: String?
        var inboxID: String?
        var channel: Channel?
    }

    /// Non-spam conversations created in the range, counted by status, channel, inbox and tag, with
    /// the median and 90th percentile of first-response and resolution times.
    func report(_ filters: ReportFilters) throws -> ConversationReport {
        var conditions = SQLConditions("spam = 0")
        if let from = filters.from { conditions.add("created_at >= ?", from) }
        if let to = filters.to { conditions.add("created_at < ?", to) }
        if let inbox = filters.inboxID { conditions.add("inbox_id = ?", inbox) }
        if let channel = filters.channel { conditions.add("channel = ?", channel.rawValue) }
        if let tag = filters.tag {
            conditions.add("seq IN (SELECT conversation_seq FROM conversation_tags WHERE tag = ?)", tag.lowercased())
        }
        var report = ConversationReport(
            total: 0, byStatus: [:], byChannel: [:], byInbox: [:], byTag: [:],
            firstResponseSeconds: Percentiles(median: nil, p90: nil),
            resolutionSeconds: Percentiles(median: nil, p90: nil))
        var firstResponses: [Double] = []
        var resolutions: [Double] = []
        // Tags match case-insensitively, so they are counted that way; each count is keyed by the spelling
        // most of its conversations carry (SPEC §6: tags are case-preserving).
        var spellings: [String: [String: Int]] = [:]  // lower-cased tag → spelling → conversations
        try db.read { connection in
            try connection.forEach(
                """
                SELECT status, channel, inbox_id, tags, created_at, first_response_at, closed_at FROM conversations
                WHERE \(conditions.sql)
                """, conditions.values
            ) { row in
                report.total += 1
                report.byStatus[row.string(0), default: 0] += 1
                report.byChannel[row.string(1), default: 0] += 1
                if let inbox = row.optionalString(2) { report.byInbox[inbox, default: 0] += 1 }
                var seen: Set<String> = []  // a conversation counts once per tag, whatever its spellings
                for tag in ListCoding.values(row.string(3)) {
                    let folded = tag.lowercased()
                    if seen.insert(folded).inserted { spellings[folded, default: [:]][tag, default: 0] += 1 }
                }
                guard let created = Timestamp.parse(row.string(4)) else { return }
                if let first = row.optionalString(5).flatMap(Timestamp.parse) {
                    firstResponses.append(first.timeIntervalSince(created))
                }
                if let closed = row.optionalString(6).flatMap(Timestamp.parse) {
                    resolutions.append(closed.timeIntervalSince(created))
                }
            }
        }
        for (folded, counts) in spellings {
            // The most common spelling; among equally common ones, the first in code-point order.
            let spelling =
                counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? folded
            report.byTag[spelling] = counts.values.reduce(0, +)
        }
        report.firstResponseSeconds = Statistics.percentiles(firstResponses)
        report.resolutionSeconds = Statistics.percentiles(resolutions)
        return report
    }
}

/// Percentiles by linear interpolation between closest ranks (the common "type 7" definition).
enum Statistics {
    static func percentiles(_ values: [Double]) -> Percentiles {
        let sorted = values.sorted()
        return Percentiles(median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9))
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let value = sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        return (value * 1000).rounded() / 1000
    }
}
