import ConciergeCore
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Foundation

/// Lookups against external CRM sources (SPEC §7): fill the URL template (values percent-encoded),
/// GET it within the source's timeout, cache the answer for its TTL, serve a stale answer when the
/// source fails, and skip a source whose breaker is open.
struct SourceLookup: Sendable {
    let store: SourceStore
    let breaker: CircuitBreaker
    /// The client for the sources' URLs; in the service it carries the outbound policy
    /// (`ServiceEnvironment.outboundHTTP`), so a source that resolves to a refused address fails.
    let http: HTTPClient
    /// Where each failed call to a source is told: a warning line and `concierge_crm_source_failures_total`.
    let logger: Logger
    let metrics: Metrics
    /// The clock that ages cached answers and the breaker's cool-down.
    var time: any TimeSource = SystemTime()

    /// The breaker as the outside learns of it: openings and closings with their events.
    private var breakers: SourceBreakers { SourceBreakers(breaker: breaker, store: store) }

    /// Headers the HTTP client writes or owns (lower-cased): it always sends `Host` from the URL, so a
    /// configured one went out as a second `Host`; `Content-Length` and `Transfer-Encoding` would frame
    /// a body the lookup's GET does not have (the CRM waits for it, or reads the next request as one);
    /// `Connection` and the other hop-by-hop headers are the client's, which pools its connections.
    /// `PUT /v1/sources` refuses them; a source saved before that has them left out of its requests.
    static let failuresMetric = "concierge_crm_source_failures_total"
    static let failuresHelp = "Calls to external CRM sources that failed (error, timeout, refused address), by source."

    static let reservedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
        "proxy-connection",
    ]

    func lookup(source name: String, by field: String, value: String) async throws -> LookupResult {
        guard let source = try store.get(name) else { throw CRMError.sourceNotFound(name) }
        let key = field + ":" + value
        let clock = time.now
        let now = Int64(clock.timeIntervalSince1970 * 1000)
        let cached = try store.cached(source: name, key: key)
        if let cached, now - cached.fetchedAt < Int64(source.cacheTtlSeconds) * 1000 {
            return Self.result(cached, source: name, stale: false)
        }
        guard breaker.allow(name, now: clock) else {
            if let cached { return Self.result(cached, source: name, stale: true) }
            throw CRMError.sourceSkipped(name)
        }
        let url = Self.fill(source.urlTemplate, field: field, value: value)
        let request = ClientRequest(
            method: "GET", url: url,
            headers: source.headers.filter { !Self.reservedHeaders.contains($0.key.lowercased()) }.map {
                ($0.key, $0.value)
            }
                + [("Accept", "application/json")])
        do {
            let response = try await http.send(request, timeout: Double(source.timeoutMs) / 1000)
            switch response.status {
            case 200..<300:
                guard let data = try? JSONCoding.decode(JSONValue.self, from: response.body) else {
                    throw HTTPClientError.malformedResponse("body is not JSON")
                }
                // The source answered: the breaker hears so before anything of ours can fail (a trial
                // left unreported would keep the source skipped until an administrator stepped in).
                try breakers.report(.succeeded, for: name, now: clock)
                let entry = SourceStore.Cached(found: true, data: try JSONCoding.encode(data), fetchedAt: now)
                try store.cache(source: name, key: key, entry)
                return LookupResult(found: true, source: name, stale: false, data: data)
            case 404:
                try breakers.report(.succeeded, for: name, now: clock)
                try store.cache(source: name, key: key, SourceStore.Cached(found: false, data: nil, fetchedAt: now))
                return LookupResult(found: false, source: name)
            default:
                throw HTTPClientError.malformedResponse("HTTP \(response.status)")
            }
        } catch let error as HTTPClientError {
            try breakers.report(.failed, for: name, lastError: Self.summary(error), now: clock)
            var fields = ["source": name, "error": error.description, "cached": cached == nil ? "no" : "yes"]
            if let requestID = RequestTrace.requestID { fields["requestId"] = requestID }
            logger.warning("CRM source failed", fields)
            metrics.increment(Self.failuresMetric, labels: [("source", name)], help: Self.failuresHelp)
            if let cached { return Self.result(cached, source: name, stale: true) }
            throw CRMError.sourceFailed(name, detail: error.description)
        }
    }

    /// How a call failed, as a breaker event tells it: the client's description, but never the URL
    /// (it holds the address looked up).
    static func summary(_ error: HTTPClientError) -> String {
        switch error {
        case .invalidURL: "invalid URL"
        default: error.description
        }
    }

    static func fill(_ template: String, field: String, value: String) -> String {
        let encoded = URLCoding.encodeComponent(value)
        return template.replacingOccurrences(of: "{{\(field)}}", with: encoded)
            .replacingOccurrences(of: "{{email}}", with: field == "email" ? encoded : "")
            .replacingOccurrences(of: "{{phone}}", with: field == "phone" ? encoded : "")
    }

    private static func result(_ cached: SourceStore.Cached, source: String, stale: Bool) -> LookupResult {
        LookupResult(
            found: cached.found, source: source, stale: stale,
            data: cached.data.flatMap { try? JSONCoding.decode(JSONValue.self, from: $0) })
    }
}
