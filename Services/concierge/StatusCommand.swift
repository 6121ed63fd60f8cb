import ConciergeHTTPClient
import Foundation

/// `concierge status`: one table of each service's health, readiness and key metrics, read from the
/// open routes `/healthz`, `/readyz` and `/metrics` (no token needed).
struct StatusCommand: Equatable {
    init(parsing words: ArraySlice<String>) throws(CLIError) {
        guard words.isEmpty else { throw .usage("status takes no options; it uses the *_URL and *_PORT variables") }
    }

    /// What one service said.
    struct Row: Equatable, Sendable {
        var name: String
        var url: String
        var healthy = false
        var ready = false
        var metrics: [String: Double] = [:]
        /// Why it is not healthy, or not ready (`nil` when it is both).
        var problem: String?
    }

    /// The domain counter shown for each service, summed over its labels.
    static let activity = [
        "contacts": ("concierge_contacts_created_total", "contacts created"),
        "conversations": ("concierge_inbound_messages_total", "inbound messages"),
        "routing": ("concierge_routing_decisions_total", "routing decisions"),
        "crm-lookup": ("concierge_crm_lookups_total", "lookups"),
    ]

    /// - Returns: 0 when every service is healthy and ready, else 1.
    func run(environment: [String: String]) async throws(CLIError) -> Int32 {
        let suite = try Suite.from(environment: environment, signing: false)
        let rows = await withTaskGroup(of: Row.self) { group in
            for member in suite.members { group.addTask { await Self.probe(member) } }
            var rows: [Row] = []
            for await row in group { rows.append(row) }
            return suite.members.compactMap { member in rows.first { $0.name == member.name } }
        }
        for line in Self.table(rows) { Console.out(line) }
        // Then one line for each service that is not both healthy and ready, saying why.
        for row in rows {
            if let problem = row.problem { Console.out("\(row.name) (\(row.url)): \(problem)") }
        }
        return rows.allSatisfy { $0.healthy && $0.ready } ? 0 : 1
    }

    static func probe(_ member: Suite.Member) async -> Row {
        var row = Row(name: member.name, url: member.url)
        let unhealthy = await ProbeCommand.failure(of: member.url + "/healthz")
        row.healthy = unhealthy == nil
        // Not asked when the process does not answer at all: the same reason twice says nothing more.
        let unready = unhealthy == nil ? await ProbeCommand.failure(of: member.url + "/readyz") : unhealthy
        row.ready = unready == nil
        row.problem = unhealthy.map { "down: \($0)" } ?? unready.map { "not ready: \($0)" }
        if let response = try? await HTTPClient.shared.send(
            ClientRequest(method: "GET", url: member.url + "/metrics"), timeout: 2),
            response.status == 200
        {
            row.metrics = parseMetrics(String(decoding: response.body, as: UTF8.self))
        }
        return row
    }

    /// Sums every sample of each metric family over its labels (Prometheus text format 0.0.4),
    /// keeping the largest value under `<name>:max` (for ages) and 5xx answers under `http_requests_total:5xx`.
    static func parseMetrics(_ text: String) -> [String: Double] {
        var sums: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            sums[name, default: 0] += value
            if name == "http_requests_total" && series.contains("status=\"5") {
                sums[name + ":5xx", default: 0] += value
            }
            sums[name + ":max"] = max(sums[name + ":max"] ?? value, value)
        }
        return sums
    }

    static func table(_ rows: [Row]) -> [String] {
        let header = ["SERVICE", "URL", "HEALTH", "READY", "REQUESTS", "5XX", "OUTBOX", "OLDEST", "ACTIVITY"]
        var cells: [[String]] = []
        var colors: [[Console.Color?]] = []
        for row in rows {
            let m = row.metrics
            let (metric, label) = activity[row.name] ?? ("", "")
            let fiveHundreds = m["http_requests_total:5xx"] ?? 0
            let depth = m["concierge_outbox_depth"] ?? 0
            cells.append([
                row.name, row.url, row.healthy ? "ok" : "down", row.ready ? "ready" : "not ready",
                m.isEmpty ? "-" : count(m["http_requests_total"]), m.isEmpty ? "-" : count(fiveHundreds),
                m.isEmpty ? "-" : count(depth), m.isEmpty ? "-" : seconds(m["concierge_outbox_oldest_age_seconds:max"]),
                m.isEmpty ? "-" : "\(count(m[metric])) \(label)",
            ])
            colors.append([
                nil, nil, row.healthy ? .green : .red, row.ready ? .green : .red, nil, fiveHundreds > 0 ? .yellow : nil,
                depth > 0 ? .yellow : nil, nil, nil,
            ])
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ values: [String], _ tints: [Console.Color?]) -> String {
            values.indices.map { column in
                let last = column == values.count - 1
                let padded =
                    last
                    ? values[column] : values[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
                return tints[column].map { Console.styled(padded, $0) } ?? padded
            }.joined(separator: "  ")
        }
        return [line(header, Array(repeating: .dim, count: header.count))] + zip(cells, colors).map(line)
    }

    private static func count(_ value: Double?) -> String { String(Int(value ?? 0)) }

    private static func seconds(_ value: Double?) -> String {
        guard let value, value > 0 else { return "-" }
        return value < 120 ? "\(Int(value)) s" : "\(Int(value / 60)) min"
    }
}
