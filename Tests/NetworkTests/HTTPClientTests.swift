import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

@testable import HTTPServer

/// A complete keep-alive answer for the hand-written servers.
private let okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"

/// Our HTTP client against our server and against hand-written socket servers.
@Suite struct HTTPClientTests {
    @Test func getAndPostRoundTrip() async throws {
        let router = basicRouter()
        router.get("/items/{id}", access: .open) { request, context in
            .text("item \(try context.parameters.require("id")) sort=\(request.query["sort"] ?? "-")")
        }
        try await withServer(router) { _, port in
            let client = HTTPClient()
            let got = try await client.get(url(port, "/items/a%20b?sort=new"))
            #expect(got.status == 200)
            #expect(got.isSuccess)
            #expect(got.text == "item a b sort=new")
            #expect(got.header("Content-Type") == "text/plain; charset=utf-8")

            let payload = Array(#"{"hello":"wörld"}"#.utf8)
            let posted = try await client.send(ClientRequest(method: "POST", url: url(port, "/echo"), body: payload))
            #expect(posted.status == 200)
            #expect(posted.body == payload)

            let empty = try await client.send(ClientRequest(method: "POST", url: url(port, "/echo")))
            #expect(empty.status == 200)
            #expect(empty.body.isEmpty)

            let missing = try await client.get(url(port, "/nope"))
            #expect(missing.status == 404)
            #expect(!missing.isSuccess)
        }
    }

    @Test func keepAliveConnectionsAreReused() async throws {
        // Counting accepted connections needs the server side in our hands: a raw listener that
        // answers every request on a connection with keep-alive.
        let listener = try RawListener { connection, _, listener in
            while !listener.isStopped && !connection.sawEOF {
                if connection.readRequest(timeout: 0.2) != nil { try? connection.writeAll(Array(okAnswer.utf8)) }
            }
        }
        defer { listener.stop() }
        let client = HTTPClient()
        for _ in 0..<5 {
            let response = try await client.get("http://127.0.0.1:\(listener.port)/")
            #expect(response.text == "ok")
        }
        #expect(listener.acceptedCount == 1)
    }

    @Test func requestTimeoutAgainstAServerThatNeverAnswers() async throws {
        let listener = try RawListener.silent()
        defer { listener.stop() }
        let start = Monotonic.nanoseconds()
        await #expect(throws: HTTPClientError.timedOut) {
            try await HTTPClient().send(
                ClientRequest(method: "GET", url: "http://127.0.0.1:\(listener.port)/"), timeout: 0.5)
        }
        let waited = secondsSince(start)
        #expect(waited >= 0.45 && waited < 3, "gave up after \(waited) s")
        #expect(listener.acceptedCount == 1)
    }

    @Test func requestHeadCarriesHeadersWithoutLineBreaksAndTheBodyLength() async throws {
        let seen = Mutex<[String]>([])
        let listener = try RawListener { connection, _, _ in
            guard let request = connection.readRequest() else { return }
            seen.withLock { $0.append(request) }
            try? connection.writeAll(Array(okAnswer.utf8))
        }
        defer { listener.stop() }
        let request = ClientRequest(
            method: "POST", url: "http://127.0.0.1:\(listener.port)/in?x=1",
            headers: [("Authorization", "Bearer abc\r\nX-Evil: 1"), ("X-Name", "Søren")], body: Array("héllo".utf8))
        #expect(try await HTTPClient().send(request).text == "ok")
        let head = try #require(seen.withLock { $0.first })
        let lines = head.components(separatedBy: "\r\n")
        #expect(lines.first == "POST /in?x=1 HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(listener.port)"))
        #expect(lines.contains("Authorization: Bearer abcX-Evil: 1"))
        #expect(!lines.contains { $0.hasPrefix("X-Evil") })
        #expect(lines.contains("X-Name: Søren"))
        #expect(lines.contains("Content-Length: 6"))
        #expect(head.hasSuffix("\r\n\r\nhéllo"))
    }

    @Test func connectionRefusedIsConnectFailed() async throws {
        // A bound socket that is not listening: connecting to its port is refused, and nobody else can take it meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = RawConnection.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0)
        let port = RawListener.localPort(fd)
        do {
            _ = try await HTTPClient().get("http://127.0.0.1:\(port)/")
            Issue.record("expected the connection to be refused")
        } catch let error as HTTPClientError {
            guard case .connectFailed = error else {
                Issue.record("expected .connectFailed, got \(error)")
                return
            }
        }
    }

    @Test func invalidURLsAreRefusedBeforeConnecting() async {
        let client = HTTPClient()
        await #expect(throws: HTTPClientError.unsupportedScheme("ftp")) { try await client.get("ftp://127.0.0.1/") }
        await #expect(throws: HTTPClientError.invalidURL("http://127.0.0.1:99999/")) {
            try await client.get("http://127.0.0.1:99999/")
        }
        await #expect(throws: HTTPClientError.invalidURL("no-scheme")) { try await client.get("no-scheme") }
    }

    @Test func pooledConnectionClosedByTheServerIsRetriedTransparently() async throws {
        let listener = try RawListener.droppingFirstConnectionAfterOneAnswer(okAnswer)
        defer { listener.stop() }
        let client = HTTPClient()
        let first = try await client.get("http://127.0.0.1:\(listener.port)/one")
        #expect(first.text == "ok")
        let second = try await client.get("http://127.0.0.1:\(listener.port)/two")
        #expect(second.text == "ok")
        #expect(listener.acceptedCount == 2)
    }

    @Test func pooledConnectionTimedOutByOurServerIsReplaced() async throws {
        try await withServer(basicRouter(), configure: { $0.idleTimeoutSeconds = 1 }) { server, port in
            let client = HTTPClient()
            let first = try await client.get(url(port, "/ping"))
            #expect(first.text == "pong")
            // The server's idle sweep closes the pooled connection.
            #expect(await eventually(within: 6) { server.connectionCount == 0 })
            let second = try await client.get(url(port, "/ping"))
            #expect(second.text == "pong")
        }
    }

    @Test func chunkedResponseIsDecoded() async throws {
        let listener = try RawListener { connection, _, _ in
            guard connection.readRequest() != nil else { return }
            // Pieces split chunk-size lines, data and the final CRLF across writes.
            let pieces = [
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nHel",
                "lo\r\n7;name=value\r\n, world\r",
                "\n19\r\n", " and the rest of the body\r\n",
                "0\r\nX-Checksum: none\r\n\r\n",
            ]
            for piece in pieces {
                try? connection.writeAll(Array(piece.utf8))
                usleep(20_000)
            }
            // A second request on the same connection proves the chunked answer was consumed exactly.
            guard connection.readRequest() != nil else { return }
            try? connection.writeAll(Array(okAnswer.utf8))
        }
        defer { listener.stop() }
        let client = HTTPClient()
        let response = try await client.get("http://127.0.0.1:\(listener.port)/")
        #expect(response.status == 200)
        #expect(response.text == "Hello, world and the rest of the body")
        #expect(try await client.get("http://127.0.0.1:\(listener.port)/").text == "ok")
        #expect(listener.acceptedCount == 1)
    }

    @Test func bodyDelimitedByCloseIsRead() async throws {
        let listener = try RawListener { connection, _, _ in
            guard connection.readRequest() != nil else { return }
            try? connection.writeAll(Array("HTTP/1.0 200 OK\r\n\r\nuntil the end".utf8))
            connection.close()
        }
        defer { listener.stop() }
        #expect(try await HTTPClient().get("http://127.0.0.1:\(listener.port)/").text == "until the end")
    }

    @Test func requestIDIsPropagatedFromTheTaskLocal() async throws {
        let router = Router()
        router.get("/seen", access: .open) { request, context in
            .text((request.header("x-request-id") ?? "-") + "|" + context.requestID)
        }
        try await withServer(router) { _, port in
            let client = HTTPClient()
            let traced = try await RequestTrace.$requestID.withValue("trace-42") {
                try await client.get(url(port, "/seen"))
            }
            #expect(traced.text == "trace-42|trace-42")
            #expect(traced.header("x-request-id") == "trace-42")

            // An explicit header wins over the task-local one.
            let explicit = try await RequestTrace.$requestID.withValue("trace-42") {
                try await client.get(url(port, "/seen"), headers: [("X-Request-ID", "mine-1")])
            }
            #expect(explicit.text == "mine-1|mine-1")

            let untraced = try await client.get(url(port, "/seen"))
            #expect(untraced.text.hasPrefix("-|"))
        }
    }

    @Test func concurrentRequestsEachKeepTheirOwnTimeout() async throws {
        let listener = try RawListener.silent()
        defer { listener.stop() }
        let client = HTTPClient()
        let start = Monotonic.nanoseconds()
        // A dozen callers waiting on one silent server: none may wait much past its own 1 s.
        let waits = try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    await #expect(throws: HTTPClientError.timedOut) {
                        try await client.send(
                            ClientRequest(method: "GET", url: "http://127.0.0.1:\(listener.port)/"), timeout: 1)
                    }
                    return secondsSince(start)
                }
            }
            return try await group.reduce(into: [Double]()) { $0.append($1) }
        }
        #expect(waits.allSatisfy { $0 < 2.5 }, "gave up after \(waits.sorted()) s")
    }
}
