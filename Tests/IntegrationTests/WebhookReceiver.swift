import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Synchronization

/// A webhook receiver on loopback, served by our own `HTTPServer`: `POST /hook` keeps every delivery
/// (headers and body) it takes, and fails on demand — the next N deliveries, or all until told
/// otherwise, with a chosen status and `Retry-After`.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var id: String?
        var timestamp: String?
        var signature: String?
        var body: [UInt8]
        var arrivedAt: ContinuousClock.Instant

        var envelope: EventEnvelope? { try? JSONDecoder().decode(EventEnvelope.self, from: Data(body)) }
    }

    private struct State {
        var taken: [Delivery] = []
        var refused: [Delivery] = []
        var failNext = 0
        var failAll = false
        var failStatus = 500
        var retryAfter: String?
    }

    private let state = Mutex(State())

    var taken: [Delivery] { state.withLock { $0.taken } }
    var refused: [Delivery] { state.withLock { $0.refused } }
    var envelopes: [EventEnvelope] { taken.compactMap(\.envelope) }

    func failNext(_ count: Int, status: Int = 500, retryAfter: String? = nil) {
        state.withLock {
            $0.failNext = count
            $0.failStatus = status
            $0.retryAfter = retryAfter
        }
    }

    func failAll(_ on: Bool, status: Int = 503) {
        state.withLock {
            $0.failAll = on
            $0.failStatus = status
            $0.retryAfter = nil
        }
    }

    private func take(_ request: Request) -> Response {
        let delivery = Delivery(
            id: request.head.header("webhook-id"), timestamp: request.head.header("webhook-timestamp"),
            signature: request.head.header("webhook-signature"), body: request.body, arrivedAt: .now)
        return state.withLock { state in
            if state.failAll || state.failNext > 0 {
                if state.failNext > 0 { state.failNext -= 1 }
                state.refused.append(delivery)
                var response = Response.text("not now", status: state.failStatus)
                if let retryAfter = state.retryAfter { response.headers.append(("Retry-After", retryAfter)) }
                return response
            }
            state.taken.append(delivery)
            return .noContent()
        }
    }

    /// Runs the receiver for `body`, which gets its URL; always shut down after.
    func run<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hook", access: .open, acceptsAnyBody: true) { request, _ in self.take(request) }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
        configuration.shutdownGraceSeconds = 1
        let server = HTTPServer(
            configuration, router: router, logger: Logger(service: "receiver", level: .error, sink: MemorySink()),
            signer: nil)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                let port = try await server.waitUntilListening()
                let result = try await body("http://127.0.0.1:\(port)/hook")
                server.shutdown()
                try await group.waitForAll()
                return result
            } catch {
                server.shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
