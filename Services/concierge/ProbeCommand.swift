import ConciergeHTTPClient

/// `concierge probe URL`: exits 0 when the URL answers 200 within 2 s, else prints one line saying
/// why (connection refused, timed out, the HTTP status and what it means) and exits 1. The container
/// image has no curl, so compose health checks call this (`concierge probe http://127.0.0.1:8081/readyz`).
struct ProbeCommand: Equatable {
    /// Seconds the URL has to answer.
    static let timeout = 2.0

    var url: String

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        guard words.count == 1, let url = words.first, !url.hasPrefix("--") else {
            throw .usage("probe takes one URL, e.g. http://127.0.0.1:8081/readyz")
        }
        self.url = try URLCheck.checked(url)
    }

    /// - Returns: 0 on a 200, else 1 after printing why.
    func run() async -> Int32 {
        guard let why = await Self.failure(of: url) else { return 0 }
        Console.err("concierge probe: \(url): \(why)")
        return 1
    }

    /// `nil` when `url` answers `GET` with 200 within `timeout` seconds, else why not.
    static func failure(of url: String, timeout: Double = timeout) async -> String? {
        do {
            let response = try await HTTPClient.shared.send(ClientRequest(method: "GET", url: url), timeout: timeout)
            return response.status == 200 ? nil : FailureReason.of(status: response.status, body: response.body)
        } catch {
            return FailureReason.of(error, timeout: timeout)
        }
    }
}
