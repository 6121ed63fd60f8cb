import ConciergeModels

extension Source {
    /// The source as reads show it (`GET /v1/sources`, and its breaker events): header values are
    /// secrets (API keys), shown as their first two characters and a mask.
    /// - Parameter breaker: the breaker's state now (`CircuitBreaker.describe`).
    init(masking stored: SourceStore.Stored, breaker: String) {
        self.init(
            name: stored.name, urlTemplate: stored.urlTemplate,
            headers: stored.headers.mapValues { $0.count > 8 ? String($0.prefix(2)) + "••••••" : "••••••" },
            timeoutMs: stored.timeoutMs, cacheTtlSeconds: stored.cacheTtlSeconds, breaker: breaker,
            updatedAt: stored.updatedAt)
    }
}
