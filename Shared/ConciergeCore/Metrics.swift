import Foundation
import Synchronization

/// Prometheus counters, gauges and histograms, rendered in text format 0.0.4 at `/metrics`.
public final class Metrics: Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    public static let buckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var count = 0
        var sum = 0.0
    }

    /// One series of `http_requests_total`; labels are rendered only at scrape time.
    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct State {
        var counters: [String: [String: Double]] = [:]  // name → rendered labels → value
        var help: [String: String] = [:]
        var requests: [RequestKey: Int] = [:]
        var histograms: [String: Histogram] = [:]  // route → durations
    }

    private let state = Mutex(State())
    /// Gauges live in class instances: closures kept directly in a `Mutex` get re-wrapped in
    /// reabstraction thunks on every read, a chain that grows with each scrape.
    private final class Gauge: Sendable {
        let name: String
        let help: String
        /// `gauge`, or `counter` for a total kept elsewhere and read at scrape time.
        let type: String
        let read: @Sendable () -> [(labels: String, value: Double)]
        init(
            name: String, help: String, type: String, read: @escaping @Sendable () -> [(labels: String, value: Double)]
        ) {
            self.name = name
            self.help = help
            self.type = type
            self.read = read
        }
    }

    private let gauges = Mutex<[Gauge]>([])
    private let histograms = Mutex<[DomainHistogram]>([])

    public init() {}

    /// Declares counter `name` before anything happened, so `/metrics` lists it from the start (SPEC §2
    /// names the domain counters): a zero series for each label set given — none given: one without
    /// labels; `[]` given: the family with no series yet (its label values are not known up front).
    public func declare(_ name: String, help: String, labelSets: [[(String, String)]] = [[]]) {
        state.withLock { state in
            if state.help[name] == nil { state.help[name] = help }
            if state.counters[name] == nil { state.counters[name] = [:] }
            for labels in labelSets {
                let key = Self.render(labels)
                if state.counters[name]?[key] == nil { state.counters[name]?[key] = 0 }
            }
        }
    }

    /// Adds `by` to counter `name` with `labels`.
    public func increment(_ name: String, labels: [(String, String)] = [], by amount: Double = 1, help: String? = nil) {
        let key = Self.render(labels)
        state.withLock { state in
            state.counters[name, default: [:]][key, default: 0] += amount
            if let help, state.help[name] == nil { state.help[name] = help }
        }
    }

    /// Registers a gauge read at scrape time (e.g. outbox depth), one sample per label set.
    public func gauge(_ name: String, help: String, _ read: @escaping @Sendable () -> [(labels: String, value: Double)])
    {
        let gauge = Gauge(name: name, help: help, type: "gauge", read: read)
        gauges.withLock { $0.append(gauge) }
    }

    /// Registers a counter whose total another component keeps (e.g. the database's WAL rewinds), read
    /// at scrape time like a gauge.
    public func counter(
        _ name: String, help: String, _ read: @escaping @Sendable () -> [(labels: String, value: Double)]
    ) {
        let counter = Gauge(name: name, help: help, type: "counter", read: read)
        gauges.withLock { $0.append(counter) }
    }

    /// Registers (or returns, if one by that name exists) a histogram of a domain measurement with its
    /// own bucket bounds, e.g. `concierge_spam_classify_seconds`. Keep the returned value and call
    /// `observe` on it: that takes only the histogram's own lock, never the request metrics'.
    public func histogram(_ name: String, help: String, buckets: [Double]) -> DomainHistogram {
        histograms.withLock { registered in
            if let existing = registered.first(where: { $0.name == name }) { return existing }
            let histogram = DomainHistogram(name: name, help: help, buckets: buckets)
            registered.append(histogram)
            return histogram
        }
    }

    /// Records one finished request: the request counter and the latency histogram.
    public func record(method: String, route: String, status: Int, seconds: Double) {
        let key = RequestKey(method: method, route: route, status: status)
        state.withLock { state in
            state.requests[key, default: 0] += 1
            var histogram = state.histograms[route] ?? Histogram()
            if let bucket = Metrics.buckets.firstIndex(where: { seconds <= $0 }) { histogram.counts[bucket] += 1 }
            histogram.count += 1
            histogram.sum += seconds
            state.histograms[route] = histogram
        }
    }

    public func render() -> String {
        let snapshot = state.withLock { $0 }
        var out =
            "# HELP http_requests_total HTTP requests by method, route and status.\n# TYPE http_requests_total counter\n"
        let requestLines = snapshot.requests.map { key, value in
            "http_requests_total{method=\"\(Self.escape(key.method))\",route=\"\(Self.escape(key.route))\",status=\"\(key.status)\"} \(value)\n"
        }
        for line in requestLines.sorted() { out += line }
        out +=
            "# HELP http_request_duration_seconds HTTP request latency by route.\n# TYPE http_request_duration_seconds histogram\n"
        for (route, histogram) in snapshot.histograms.sorted(by: { $0.key < $1.key }) {
            let label = "route=\"\(Self.escape(route))\""
            var cumulative = 0
            for (i, bound) in Metrics.buckets.enumerated() {
                cumulative += histogram.counts[i]
                out += "http_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
            out += "http_request_duration_seconds_sum{\(label)} \(histogram.sum)\n"
            out += "http_request_duration_seconds_count{\(label)} \(histogram.count)\n"
        }
        for (name, series) in snapshot.counters.sorted(by: { $0.key < $1.key }) {
            out += "# HELP \(name) \(snapshot.help[name] ?? name)\n# TYPE \(name) counter\n"
            for (labels, value) in series.sorted(by: { $0.key < $1.key }) {
                out += labels.isEmpty ? "\(name) \(Self.number(value))\n" : "\(name){\(labels)} \(Self.number(value))\n"
            }
        }
        for histogram in histograms.withLock({ $0 }) {
            out += histogram.render()
        }
        for gauge in gauges.withLock({ $0 }) {
            out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) \(gauge.type)\n"
            let samples = gauge.read()
            // A family with no series yet (no outbox entry waiting) still shows its value: 0, so that
            // dashboards and alerts see the metric rather than no data.
            if samples.isEmpty { out += "\(gauge.name) 0\n" }
            for sample in samples {
                out +=
                    sample.labels.isEmpty
                    ? "\(gauge.name) \(Self.number(sample.value))\n"
                    : "\(gauge.name){\(sample.labels)} \(Self.number(sample.value))\n"
            }
        }
        return out
    }

    public static func render(_ labels: [(String, String)]) -> String {
        labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 92 || $0 == 34 || $0 == 10 }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A Prometheus histogram of one domain measurement (no labels) with its own bucket bounds; made by
/// `Metrics.histogram(_:help:buckets:)`. `observe` finds the bucket before taking the histogram's own
/// lock, which it holds for three additions.
public final class DomainHistogram: Sendable {
    public let name: String
    public let help: String
    /// Upper bounds, ascending.
    public let buckets: [Double]

    private struct Counts {
        var buckets: [Int]
        var count = 0
        var sum = 0.0
    }

    private let counts: Mutex<Counts>

    init(name: String, help: String, buckets: [Double]) {
        self.name = name
        self.help = help
        self.buckets = buckets.sorted()
        counts = Mutex(Counts(buckets: [Int](repeating: 0, count: buckets.count)))
    }

    /// Adds one observation (in the histogram's unit, e.g. seconds).
    public func observe(_ value: Double) {
        let bucket = buckets.firstIndex { value <= $0 }
        counts.withLock { counts in
            if let bucket { counts.buckets[bucket] += 1 }
            counts.count += 1
            counts.sum += value
        }
    }

    func render() -> String {
        let snapshot = counts.withLock { $0 }
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (i, bound) in buckets.enumerated() {
            cumulative += snapshot.buckets[i]
            out += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(snapshot.count)\n"
        out += "\(name)_sum \(snapshot.sum)\n\(name)_count \(snapshot.count)\n"
        return out
    }
}
