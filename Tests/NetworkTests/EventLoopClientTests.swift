import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

/// A complete keep-alive answer for the hand-written back ends.
private let okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"

/// Handlers on routes marked `runsOnEventLoop` run on the loop that read the request, and their
/// calls to other services wait on that loop too (`ReadinessWaiter`). These run one event loop, so
/// a loop that blocked would show as a second request left unanswered.
@Suite struct EventLoopClientTests {
    /// A server with one event loop whose `/relay` handler (on the loop) calls `backend` `calls`
    /// times over one shared client and answers the bodies joined, or the client's error.
    private func relayRouter(backend: Int, calls: Int, timeout: Double = 5, client: HTTPClient) -> Router {
        let router = basicRouter()
        router.get("/relay", access: .open, runsOnEventLoop: true) { _, _ in
            var bodies: [String] = []
            for index in 0..<calls {
                guard ClientIO.waiter?.isCurrentThread == true else { return .text("not on the loop") }
                do {
                    let answer = try await client.send(
                        ClientRequest(method: "GET", url: "http://127.0.0.1:\(backend)/\(index)"), timeout: timeout)
                    bodies.append(answer.text)
                } catch {
                    bodies.append("error: \(error)")
                }
            }
            return .text(bodies.joined(separator: " "))
        }
        return router
    }

    @Test func callsFromALoopHandlerAreAnsweredAndReuseConnections() async throws {
        let backend = try RawListener { connection, _, listener in
            while !listener.isStopped && !connection.sawEOF {
                if connection.readRequest(timeout: 0.2) != nil { try? connection.writeAll(Array(okAnswer.utf8)) }
            }
        }
        defer { backend.stop() }
        let router = relayRouter(backend: backend.port, calls: 3, client: HTTPClient())
        try await withServer(router, configure: { $0.eventLoops = 1 }) { _, port in
            let client = HTTPClient()
            for _ in 0..<5 {
                #expect(try await client.get(url(port, "/relay")).text == "ok ok ok")
            }
            // Twenty at once on the one loop: every handler's three calls interleave on it.
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await HTTPClient().get(url(port, "/relay")).text } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 20)
            #expect(answers.allSatisfy { $0 == "ok ok ok" }, "\(answers)")
        }
        // Keep-alive: at most one back-end connection per concurrent handler, not one per call.
        #expect(backend.acceptedCount <= 21)
    }

    @Test func aSilentBackendTimesOutWithoutBlockingTheLoop() async throws {
        // Answers the first request on a connection, then reads the next and never answers.
        let waiting = Flag()
        let backend = try RawListener { connection, _, listener in
            guard connection.readRequest() != nil else { return }
            try? connection.writeAll(Array(okAnswer.utf8))
            if connection.readRequest() != nil { waiting.set() }
            while !listener.isStopped && !connection.sawEOF { _ = connection.readRequest(timeout: 0.2) }
        }
        defer { backend.stop() }
        let router = relayRouter(backend: backend.port, calls: 2, timeout: 0.5, client: HTTPClient())
        try await withServer(router, configure: { $0.eventLoops = 1 }) { _, port in
            let start = Monotonic.nanoseconds()
            async let relayed = HTTPClient().get(url(port, "/relay"))
            // While the handler waits on the silent back end, the same loop still serves others.
            #expect(await eventually { waiting.isSet }, "the back end has the second call")
            let ping = try await HTTPClient().get(url(port, "/ping"))
            #expect(ping.text == "pong")
            #expect(secondsSince(start) < 0.45, "the loop was blocked while a handler waited")
            let answer = try await relayed.text
            let waited = secondsSince(start)
            #expect(answer == "ok error: \(HTTPClientError.timedOut)")
            #expect(waited >= 0.45 && waited < 3, "gave up after \(waited) s")
        }
    }

    @Test func aPooledConnectionTheBackendClosedIsRetried() async throws {
        let backend = try RawListener.droppingFirstConnectionAfterOneAnswer(okAnswer)
        defer { backend.stop() }
        let router = relayRouter(backend: backend.port, calls: 3, client: HTTPClient())
        try await withServer(router, configure: { $0.eventLoops = 1 }) { _, port in
            let relayed = try await HTTPClient().get(url(port, "/relay"))
            #expect(relayed.text == "ok ok ok")
        }
        #expect(backend.acceptedCount == 2)
    }
}
