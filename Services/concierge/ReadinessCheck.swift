import ConciergeClients

/// Waits for services to answer `GET /readyz` with 200 (SPEC §2), polling each until a deadline.
struct ReadinessCheck: Sendable {
    /// How long a service may take to become ready; default 30 s.
    var timeout: Duration = .seconds(30)
    /// Pause between two polls of one service; default 100 ms.
    var interval: Duration = .milliseconds(100)

    /// Polls every service at once.
    /// - Returns: the services that did not become ready in time (or before cancellation), in their order.
    func notReady(_ services: [ChildService]) async -> [ChildService] {
        let deadline = ContinuousClock.now + timeout
        let ready = await withTaskGroup(of: (String, Bool).self) { group in
            for service in services {
                group.addTask { (service.name, await isReady(service, before: deadline)) }
            }
            var ready: [String: Bool] = [:]
            for await (name, isReady) in group { ready[name] = isReady }
            return ready
        }
        return services.filter { ready[$0.name] != true }
    }

    private func isReady(_ service: ChildService, before deadline: ContinuousClock.Instant) async -> Bool {
        let client = ServiceClient(baseURL: service.baseURL, tokens: nil, timeout: 1)
        while ContinuousClock.now < deadline {
            if (try? await client.ready()) != nil { return true }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return false
            }
        }
        return false
    }
}
