import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization

/// Deactivated agents as the routing service last reported them, refreshed every 15 s, so every
/// service refuses a deactivated agent's token within 60 s (SPEC §2). If routing cannot be reached
/// the last known list stays in force.
public final class RevocationCache: TokenRevocation {
    private let routingURL: String
    private let tokens: TokenSource
    private let revoked = Mutex<Set<String>>([])
    private let stopping = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    /// Seconds between refreshes; default 15.
    let interval: Double

    public init(routingURL: String, tokens: TokenSource, interval: Double = 15) {
        self.routingURL = routingURL
        self.tokens = tokens
        self.interval = interval
    }

    public func isRevoked(subject: String) -> Bool { revoked.withLock { $0.contains(subject) } }

    /// Refreshes until `stop()`, on its own thread (the fetch is a blocking call with a timeout).
    public func run() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                while !self.stopping.load(ordering: .acquiring) {
                    self.refresh()
                    _ = self.wakeup.wait(timeout: .now() + self.interval)
                }
                done.resume()
            }
            thread.name = "revocations"
            thread.start()
        }
    }

    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
    }

    func refresh() {
        let request = ClientRequest(
            method: "GET", url: routingURL + "/v1/internal/deactivated-agents",
            headers: [("Authorization", "Bearer \(tokens.token)")])
        guard let response = try? HTTPClient.shared.perform(request, seconds: 2), response.isSuccess,
            let list = try? JSONDecoder().decode(DeactivatedAgents.self, from: Data(response.body))
        else { return }
        revoked.withLock { $0 = Set(list.agentIds) }
    }
}
