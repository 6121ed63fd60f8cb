import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import Glibc
import TestSupport
import Testing

@testable import HTTPServer

/// Timeouts, the connection cap, hostile input and shutdown: the server stays up and answers.
@Suite struct ServerLifecycleTests {
    @Test func incompleteHeadTimesOutWith408ButIdleKeepAliveSurvives() async throws {
        try await withServer(basicRouter(), configure: { $0.headerTimeoutSeconds = 1 }) { _, port in
            // A keep-alive connection between requests is idle, not slow: the header timeout does not apply.
            let idle = try await RawConnection.connect(port: port)
            try await idle.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await idle.response().status == 200)

            let slow = try await RawConnection.connect(port: port)
            let start = Monotonic.nanoseconds()
            try await slow.send("GET /ping HTTP/1.1\r\nHost: t\r\n")
            let response = try await slow.response(timeout: 6)
            #expect(response.status == 408)
            #expect(response.header("connection") == "close")
            #expect(try await slow.closedByPeer(timeout: 3))
            let waited = secondsSince(start)
            #expect(waited >= 0.9 && waited < 6, "408 after \(waited) s")

            try await idle.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await idle.response().status == 200)
        }
    }

    @Test func connectionsPastTheCapGet503AndTheServerCarriesOn() async throws {
        try await withServer(basicRouter(), configure: { $0.maxConnections = 2 }) { server, port in
            var admitted: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await RawConnection.connect(port: port)
                try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await connection.response().status == 200)
                admitted.append(connection)
            }
            let third = try await RawConnection.connect(port: port)
            let refused = try await third.response()
            #expect(refused.status == 503)
            #expect(refused.header("connection") == "close")
            #expect(refused.header("content-type") == "application/problem+json")
            #expect(try await third.closedByPeer())
            #expect(server.metrics.render().contains("http_connections_refused_total 1"))

            // The admitted connections still work, and a freed slot is usable again.
            try await admitted[0].send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await admitted[0].response().status == 200)
            admitted[1].close()
            let servedAgain = try await eventually {
                let fresh = try await RawConnection.connect(port: port)
                try await fresh.send("GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                return (try? await fresh.response().status) == 200
            }
            #expect(servedAgain)
        }
    }

    /// A refused client may still be sending its request: the server shuts down its side and drains
    /// what comes, so the client can finish sending and then read the answer. Closed at once with
    /// unread input, the socket sends a reset and the client's send fails before it reads anything.
    @Test(arguments: [503, 413])
    func aRefusedClientStillSendingGetsToReadItsAnswer(status: Int) async throws {
        try await withServer(basicRouter(), configure: { $0.maxConnections = 1 }) { _, port in
            let admitted = try await RawConnection.connect(port: port)
            try await admitted.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await admitted.response().status == 200)
            if status == 413 { admitted.close() }
            // 503: a second connection past the cap of one; 413: the first one, over 1 MiB.
            let body = [UInt8](repeating: 120, count: 8 << 20)
            let refused = try await eventually {
                let connection = try await RawConnection.connect(port: port)
                let sent = try await offPool { () -> Bool in
                    do {
                        try connection.writeAll(
                            Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8))
                        try connection.writeAll(body)
                        return true
                    } catch {
                        return false
                    }
                }
                #expect(sent, "the request could not be sent whole")
                guard let response = try? await connection.response(timeout: 3) else { return false }
                #expect(try await connection.closedByPeer())
                return response.status == status
            }
            #expect(refused)
        }
    }

    @Test func connectionsOpenedAtOnceAreSpreadOverTheLoops() async throws {
        try await withServer(basicRouter(), configure: { $0.eventLoops = 2 }) { server, port in
            // Opened back to back, as a client's pool is: one loop's accept would take them all.
            var connections: [RawConnection] = []
            for _ in 0..<8 { connections.append(try await RawConnection.connect(port: port)) }
            for connection in connections {
                try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try await connection.response().status == 200)
            }
            #expect(server.connectionsPerLoop == [4, 4])
            // Served where they were handed: a second request on each is answered too.
            for connection in connections {
                try await connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
                let response = try await connection.response()
                #expect(response.status == 200)
                #expect(response.bodyText == "hi")
            }
            for connection in connections { connection.close() }
            #expect(await eventually { server.connectionsPerLoop == [0, 0] })
        }
    }

    /// A handler learns whether it runs on an event loop with nothing else to do (routing's writer
    /// then waits for a running commit without sleeping): yes for a lone request on a loop route,
    /// no for a handler on the shared pool.
    @Test func aHandlerKnowsWhetherItRunsOnAnIdleLoop() async throws {
        let router = Router()
        router.get("/on-loop", access: .open, runsOnEventLoop: true) { _, _ in .text("\(EventLoopContext.isOnIdleLoop)")
        }
        router.get("/off-loop", access: .open) { _, _ in .text("\(EventLoopContext.isOnIdleLoop)") }
        try await withServer(router) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET /on-loop HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.response().bodyText == "true")
            try await connection.send("GET /off-loop HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.response().bodyText == "false")
        }
    }

    static func garbage() -> [[UInt8]] {
        var crafted: [String] = [
            "\r\n\r\n",
            "GET\r\n\r\n",
            "GET / HTTP/9.9\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET /ping HTTP/1.1\r\nNo colon here\r\n\r\n",
            "GET /ping HTTP/1.1\r\n Folded: value\r\n\r\n",
            "GET /ping HTTP/1.1\r\nBad Name: v\r\n\r\n",
            "GET /ping HTTP/1.1\r\nX: a\u{7f}b\r\n\r\n",
            "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "POST /echo HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
            "POST /echo HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd",
            "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffff\r\n",
            "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
            "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",
            "GET http://evil/ HTTP/1.1\r\n\r\n",
            "GET /\u{0}ping HTTP/1.1\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}",
            "GET /ping HTTP/1.1\nHost: lf-only\n\n",
            "GET /%%%% HTTP/1.1\r\n\r\n",
            "GET /ping?\u{ff}\u{fe} HTTP/1.1\r\n\r\n",
            String(repeating: "A", count: 40_000),
            "GET /" + String(repeating: "a/", count: 3000) + " HTTP/1.1\r\n\r\n",
        ]
        crafted.append("GET /ping HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 5000) + "\r\n")
        var generator = SplitMix64(seed: 0xC0FFEE)
        var cases = crafted.map { Array($0.utf8) }
        let alphabet = Array(
            "GETPOST /\r\n:HTTP/1.1 Content-Length Transfer-Encoding chunked 0123456789abcdef\u{0}\t;,".utf8)
        for i in 0..<150 {
            let count = Int(generator.next() % 300) + 1
            cases.append(
                (0..<count).map { _ in
                    // Half the cases are plain noise, half are noise from HTTP's own vocabulary.
                    i % 2 == 0
                        ? UInt8(truncatingIfNeeded: generator.next())
                        : alphabet[Int(generator.next() % UInt64(alphabet.count))]
                })
        }
        return cases
    }

    @Test func garbageNeverCrashesTheServer() async throws {
        try await withServer(basicRouter()) { server, port in
            for bytes in Self.garbage() {
                let connection = try await RawConnection.connect(port: port)
                try? await connection.send(bytes)
                connection.shutdownWrite()
                #expect(try await connection.closedByPeer(), "\(bytes.prefix(60))")
                if let response = RawResponse.parse(connection.buffer)?.0 {
                    #expect(response.status < 500, "\(bytes.prefix(60))")
                }
            }
            let client = HTTPClient()
            #expect(try await client.get(url(port, "/ping")).text == "pong")
            #expect(await eventually { server.connectionCount <= 1 })
        }
    }

    @Test func shutdownLetsAnInFlightRequestFinish() async throws {
        let started = Flag()
        let release = Flag()
        let router = basicRouter()
        router.get("/slow", access: .open) { _, _ in
            started.set()
            _ = await eventually(within: 5, every: 0.01) { release.isSet }
            try await Task.sleep(nanoseconds: 300_000_000)
            return .text("finished")
        }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.shutdownGraceSeconds = 5
        let server = HTTPServer(
            configuration, router: router, logger: Logger(service: "network-tests", sink: MemorySink()), signer: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.waitUntilListening()
            let idle = try await RawConnection.connect(port: port)
            try await idle.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await idle.response().status == 200)

            let client = HTTPClient()
            async let answer = client.get(url(port, "/slow"))
            #expect(await eventually { started.isSet })
            let shutdownAt = Monotonic.nanoseconds()
            server.shutdown()

            // Draining: idle connections are closed, and a new one is refused at once (SPEC §2: it stops
            // accepting), while the slow one finishes.
            #expect(try await idle.closedByPeer(timeout: 3))
            let late = try? await RawConnection.connect(port: port)
            #expect(late == nil, "a connection made while draining was accepted")
            try? await late?.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            release.set()

            let response = try await answer
            #expect(response.status == 200)
            #expect(response.text == "finished")
            try await group.waitForAll()
            #expect(secondsSince(shutdownAt) < 5, "run() returned once the request finished")
            if let late {
                #expect(try await late.closedByPeer(timeout: 3))
                #expect(RawResponse.parse(late.buffer) == nil, "a connection made while draining got an answer")
            }
            #expect((try? await RawConnection.connect(port: port)) == nil, "still accepting after run() returned")
        }
    }

    /// The grace period is one budget from the first `shutdown()`: a handler that outlives it is left
    /// behind and `run()` returns when it ends (a supervisor kills at 12 s, compose at 15 s).
    @Test func shutdownEndsWithinTheGracePeriodEvenIfAHandlerDoesNot() async throws {
        let started = Flag()
        let router = basicRouter()
        router.get("/stuck", access: .open) { _, _ in
            started.set()
            try? await Task.sleep(nanoseconds: 4_000_000_000)
            return .text("too late")
        }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.shutdownGraceSeconds = 1
        let server = HTTPServer(
            configuration, router: router, logger: Logger(service: "network-tests", sink: MemorySink()), signer: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.waitUntilListening()
            let stuck = try await RawConnection.connect(port: port)
            try await stuck.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await eventually { started.isSet })
            let shutdownAt = Monotonic.nanoseconds()
            server.shutdown()
            server.shutdown()  // a second signal does not start the grace period again
            try await group.waitForAll()
            let seconds = secondsSince(shutdownAt)
            #expect(seconds >= 0.9 && seconds < 2, "run() returned \(seconds) s after shutdown(), grace 1 s")
            #expect(try await stuck.closedByPeer(timeout: 1))
        }
    }

    @Test func bindFailureEndsRunAndWaitUntilListening() async throws {
        let server = HTTPServer(
            ServerConfiguration(host: "not-an-address", port: 0), router: basicRouter(),
            logger: Logger(service: "network-tests", sink: MemorySink()), signer: nil)
        let waiterDone = Flag()
        // Unstructured, so a regression that never resumes the waiter fails this test instead of hanging the run.
        let waiter = Task {
            defer { waiterDone.set() }
            return try await server.waitUntilListening()
        }
        await #expect(throws: SocketError.self) { try await server.run() }
        #expect(await eventually { waiterDone.isSet })
        if waiterDone.isSet {
            await #expect(throws: SocketError.self) { try await waiter.value }
            await #expect(throws: SocketError.self) { try await server.waitUntilListening() }
        }
    }

    @Test func shutdownAfterRunReturnedTouchesNoReusedDescriptor() async throws {
        let server = try await withServer(basicRouter()) { server, port in
            let response = try await HTTPClient().get(url(port, "/ping"))
            #expect(response.status == 200)
            return server
        }
        // The descriptors the server closed are the lowest free ones, so new pipes are likely to get them.
        var pipes: [[Int32]] = []
        for _ in 0..<16 {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { break }
            _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
            pipes.append(ends)
        }
        defer {
            for ends in pipes {
                close(ends[0])
                close(ends[1])
            }
        }
        server.shutdown()
        for ends in pipes {
            var byte: UInt8 = 0
            #expect(read(ends[0], &byte, 1) == -1, "a stray write landed in pipe \(ends)")
        }
    }
}
