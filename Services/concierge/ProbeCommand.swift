import HTTPClient

/// `concierge probe URL`: exits 0 when the URL answers 200 within 2 s, else 1. The container image
/// has no curl, so compose health checks call this (`concierge probe http://127.0.0.1:8081/readyz`).
struct ProbeCommand: Equatable {
    var url: String

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        guard words.count == 1, let url = words.first, url.hasPrefix("http://") else {
            throw .usage("probe takes one http:// URL")
        }
        self.url = url
    }

    func run() async -> Int32 {
        let response = try? await HTTPClient.shared.send(ClientRequest(method: "GET", url: url), timeout: 2)
        return response?.status == 200 ? 0 : 1
    }
}
