import ConciergeModels
import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// Streamed answers (`ResponseStream`): a chunked body written over time by the event loop, ended by
/// the producer, the client, a slow reader or the server's drain.
@Suite struct ResponseStreamTests {
    /// The stream the last request to `/stream` opened, for the test to write into.
    final class Streams: Sendable {
        let latest = Mutex<ResponseStream?>(nil)
        let closed = Atomic<Int>(0)
    }

    private static func router(_ streams: Streams, early: String? = nil) -> Router {
        let router = Router()
        router.get("/stream", access: .open) { _, _ in
            let stream = ResponseStream()
            stream.onClose { streams.closed.add(1, ordering: .relaxed) }
            // Sent before the head has gone out: must follow it.
            if let early { stream.send(Array(early.utf8)) }
            streams.latest.withLock { $0 = stream }
            return .stream(stream, contentType: "text/event-stream")
        }
        router.get("/ping", access: .open) { _, _ in .text("pong") }
        return router
    }

    private static func openStream(port: Int) async throws -> RawConnection {
        let connection = try await RawConnection.connect(port: port)
        try await connection.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        return connection
    }

    /// Reads until the text received so far contains `needle`.
    private static func receive(_ needle: String, on connection: RawConnection, timeout: Double = 5) async -> Bool {
        await Task.detached {
            connection.read(timeout: timeout) { String(decoding: $0, as: UTF8.self).contains(needle) }
        }.value
    }

    private static func stream(of streams: Streams) async throws -> ResponseStream {
        _ = await eventually { streams.latest.withLock { $0 } != nil }
        return try #require(streams.latest.withLock { $0 })
    }

    @Test func chunksFollowTheHeadInOrderAndFinishEndsTheBodyAndTheConnection() async throws {
        let streams = Streams()
        try await withServer(Self.router(streams, early: "early\n")) { _, port in
            let connection = try await Self.openStream(port: port)
            let stream = try await Self.stream(of: streams)
            #expect(await Self.receive("early\n", on: connection))
            let text = connection.text
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("Transfer-Encoding: chunked\r\n"))
            #expect(text.contains("Content-Type: text/event-stream\r\n"))
            #expect(!text.lowercased().contains("content-length"))
            for index in 1...50 { #expect(stream.send(Array("event \(index)\n".utf8))) }
            #expect(await Self.receive("event 50\n", on: connection))
            // Each send is one chunk (size in hex, CRLF, bytes, CRLF), in the order sent.
            let body = String(connection.text.split(separator: "\r\n\r\n", maxSplits: 1)[1])
            var expected = "6\r\nearly\n\r\n"
            for index in 1...50 {
                let line = "event \(index)\n"
                expected += String(line.utf8.count, radix: 16) + "\r\n" + line + "\r\n"
            }
            #expect(body == expected)
            stream.finish()
            #expect(try await connection.closedByPeer())
            #expect(connection.text.hasSuffix("\r\n0\r\n\r\n"))
            #expect(stream.isClosed)
            #expect(!stream.send(Array("late".utf8)))
            #expect(streams.closed.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aClientThatLeavesEndsTheStreamAndRunsItsCloseActionsOnce() async throws {
        let streams = Streams()
        try await withServer(Self.router(streams)) { _, port in
            let connection = try await Self.openStream(port: port)
            let stream = try await Self.stream(of: streams)
            #expect(await Self.receive("\r\n\r\n", on: connection))
            connection.close()
            #expect(await eventually { stream.isClosed })
            #expect(!stream.send(Array("nobody listens".utf8)))
            #expect(streams.closed.load(ordering: .relaxed) == 1)
            // An action added after the end runs at once.
            let late = Flag()
            stream.onClose { late.set() }
            #expect(late.isSet)
        }
    }

    @Test func aQuietStreamGetsKeepAliveCommentsAndNeverIdlesOut() async throws {
        let streams = Streams()
        try await withServer(
            Self.router(streams),
            configure: {
                $0.streamKeepAliveSeconds = 1
                $0.idleTimeoutSeconds = 2
            }
        ) { _, port in
            let connection = try await Self.openStream(port: port)
            let stream = try await Self.stream(of: streams)
            // Longer than the idle timeout: comments keep coming and the stream stays open.
            #expect(await Self.receive(": keep-alive\n\n\r\n", on: connection, timeout: 5))
            let comments = await Task.detached {
                connection.read(timeout: 4) { _ in false }
                return connection.text.components(separatedBy: ": keep-alive").count - 1
            }.value
            #expect(comments >= 3)
            #expect(!connection.sawEOF)
            #expect(stream.send(Array("still here\n".utf8)))
            #expect(await Self.receive("still here\n", on: connection))
        }
    }

    @Test func anOpenStreamHoldsNoRequestThreadAndOtherRequestsAreServed() async throws {
        let streams = Streams()
        try await withServer(Self.router(streams)) { _, port in
            var open: [RawConnection] = []
            for _ in 0..<200 { open.append(try await Self.openStream(port: port)) }
            let other = try await RawConnection.connect(port: port)
            try await other.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await other.response().bodyText == "pong")
            for connection in open { connection.close() }
        }
    }

    @Test func drainingEndsOpenStreamsWithTheLastChunk() async throws {
        let streams = Streams()
        let connection = try await withServer(Self.router(streams)) { server, port in
            let connection = try await Self.openStream(port: port)
            let stream = try await Self.stream(of: streams)
            #expect(await Self.receive("\r\n\r\n", on: connection))
            stream.send(Array("before\n".utf8))
            #expect(await Self.receive("before\n", on: connection))
            return connection
        }
        #expect(try await connection.closedByPeer())
        #expect(connection.text.hasSuffix("0\r\n\r\n"))
        #expect(streams.closed.load(ordering: .relaxed) == 1)
    }

    @Test func aClientThatStopsReadingIsLetGo() async throws {
        let streams = Streams()
        try await withServer(Self.router(streams)) { _, port in
            let connection = try await Self.openStream(port: port)
            let stream = try await Self.stream(of: streams)
            // Never read: once the socket buffers and the backlog are full, the server closes it.
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var sent = 0
            while stream.send(block) && sent < 1024 {
                sent += 1
                await Task.yield()
            }
            #expect(await eventually { stream.isClosed })
            #expect(sent < 1024)
            connection.close()
        }
    }
}
