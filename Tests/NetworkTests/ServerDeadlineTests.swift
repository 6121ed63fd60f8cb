import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Glibc
import TestSupport
import Testing

@testable import HTTPServer

/// Every connection has a deadline: clients that send nothing, or trickle a body, are closed on time
/// and never keep an ordinary client waiting. Deadlines are shortened by configuration, never slept out.
@Suite(.serialized) struct ServerDeadlineTests {
    @Test func thousandsOfSilentConnectionsAreClosedByTheHeaderDeadline() async throws {
        // Two descriptors per connection in this process (client and server side), plus the rest.
        let limit = raiseDescriptorLimit(to: 8_192)
        let count = min(3_000, (limit - 512) / 2)
        try await withServer(basicRouter(), configure: { $0.headerTimeoutSeconds = 2 }) { server, port in
            let openedAt = Monotonic.nanoseconds()
            let silent = try await offPool { try (0..<count).map { _ in try RawConnection.connect(port: port) } }
            #expect(
                await eventually { server.connectionCount == count }, "\(server.connectionCount) of \(count) accepted")

            // Not one byte from any of them, and still an ordinary client is answered at once.
            #expect(try await medianPingSeconds(port: port) < 0.1)

            // The header deadline counts from the accept: they go after 2 s (the sweep runs each second),
            // not after the 60 s idle timeout.
            #expect(await eventually(within: 8) { server.connectionCount == 0 }, "\(server.connectionCount) still open")
            let seconds = secondsSince(openedAt)
            #expect(seconds >= 1.9 && seconds < 5, "closed after \(seconds) s")
            let closed = try await offPool { silent.filter { $0.waitForClose(timeout: 0.01) }.count }
            #expect(closed == count)
            // Nothing was said to a client that said nothing.
            #expect(silent.allSatisfy { $0.buffer.isEmpty })
        }
    }

    @Test func hundredsOfSlowBodiesAreClosedAtTheirMinimumRateWith408() async throws {
        _ = raiseDescriptorLimit(to: 4_096)
        try await withServer(
            basicRouter(),
            configure: {
                $0.bodyTimeoutSeconds = 1
                $0.minBodyBytesPerSecond = 1024
            }
        ) { server, port in
            // Half declare a length and send one byte at a time; half send a chunked body whose trailer
            // lines never end. Each byte extends the deadline by 1/1024 s: nowhere near enough.
            let trickling = try await offPool {
                try (0..<300).map { i in
                    let connection = try RawConnection.connect(port: port)
                    let head =
                        i % 2 == 0
                        ? "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"
                        : "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
                    try connection.writeAll(Array(head.utf8))
                    return connection
                }
            }
            let startedAt = Monotonic.nanoseconds()
            let stop = Flag()
            let trickler = Thread {
                while !stop.isSet {
                    for (i, connection) in trickling.enumerated() where !connection.sawEOF {
                        try? connection.writeAll(Array((i % 2 == 0 ? "x" : "X-T: y\r\n").utf8))
                    }
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
            trickler.start()
            defer { stop.set() }

            #expect(try await medianPingSeconds(port: port) < 0.1)

            let answered = try await offPool {
                let deadline = Monotonic.nanoseconds() + 6_000_000_000
                return trickling.map { connection in
                    let left = Double(deadline - min(deadline, Monotonic.nanoseconds())) / 1e9
                    return (try? connection.readResponse(timeout: max(0.001, left)))?.status
                }
            }
            stop.set()
            let seconds = secondsSince(startedAt)
            #expect(
                answered.filter { $0 == 408 }.count == trickling.count, "\(answered.filter { $0 != 408 }.prefix(5))")
            #expect(seconds < 5, "the last was answered after \(seconds) s")
            #expect(await eventually { server.connectionCount == 0 })
            #expect(
                server.metrics.render().contains(#"http_requests_total{method="-",route="unparsed",status="408"} 300"#))
        }
    }

    @Test func aBodyAtTheMinimumRateIsReceivedWhole() async throws {
        try await withServer(
            basicRouter(),
            configure: {
                $0.bodyTimeoutSeconds = 1
                $0.minBodyBytesPerSecond = 1024
            }
        ) { _, port in
            // 3 KiB at about 2 KiB/s: past the 1 s grace, yet above the minimum rate throughout.
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3072\r\n\r\n")
            for _ in 0..<6 {
                try await Task.sleep(nanoseconds: 250_000_000)
                try await connection.send([UInt8](repeating: 65, count: 512))
            }
            let response = try await connection.response()
            #expect(response.status == 200)
            #expect(response.body.count == 3072)
        }
    }

    @Test func aClientReadingAnAnswerSlowerThanTheMinimumRateIsClosed() async throws {
        let router = basicRouter()
        router.get("/large", access: .open) { _, _ in
            Response(
                status: 200, headers: [("Content-Type", "application/octet-stream")],
                body: [UInt8](repeating: 7, count: 16 << 20))
        }
        try await withServer(
            router,
            configure: {
                $0.bodyTimeoutSeconds = 1
                $0.minBodyBytesPerSecond = 256 * 1024
            }
        ) { server, port in
            // A client that reads fast gets the whole answer.
            #expect(try await HTTPClient().get(url(port, "/large")).body.count == 16 << 20)
            #expect(await eventually { server.connectionCount <= 1 })

            // 16 KiB every 0.1 s is 160 KiB/s: progress all the time, yet below the minimum rate. Each
            // write moved the old idle clock, so this client held its connection for as long as it liked.
            let reader = try await RawConnection.connect(port: port)
            try await reader.send("GET /large HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let stop = Flag()
            let slowReader = Thread {
                var chunk = [UInt8](repeating: 0, count: 16 * 1024)
                while !stop.isSet {
                    _ = recv(reader.fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            slowReader.start()
            defer { stop.set() }
            #expect(await eventually { server.connectionCount == 1 })
            #expect(await eventually(within: 10) { server.connectionCount == 0 }, "the slow reader is still served")
            stop.set()
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedCountingFromItsLastAnswer() async throws {
        try await withServer(
            basicRouter(),
            configure: {
                $0.idleTimeoutSeconds = 2
                $0.headerTimeoutSeconds = 1
            }
        ) { server, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.response().status == 200)
            // Waiting longer than the header deadline between requests is idle time, not a slow head.
            try await Task.sleep(nanoseconds: 1_300_000_000)
            try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await connection.response().status == 200)
            let answeredAt = Monotonic.nanoseconds()
            #expect(try await connection.closedByPeer(timeout: 6))
            let seconds = secondsSince(answeredAt)
            #expect(seconds >= 1.9 && seconds < 4.5, "closed \(seconds) s after the last answer")
            #expect(connection.buffer.isEmpty, "an idle close says nothing")
            #expect(await eventually { server.connectionCount == 0 })
        }
    }
}

/// The median of ten fresh-connection round trips of `GET /ping`, in seconds; each must be answered.
func medianPingSeconds(port: Int) async throws -> Double {
    var times: [Double] = []
    for _ in 0..<10 {
        let start = Monotonic.nanoseconds()
        let connection = try await RawConnection.connect(port: port)
        try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let response = try await connection.response(timeout: 2)
        #expect(response.status == 200)
        times.append(secondsSince(start))
    }
    return times.sorted()[times.count / 2]
}

/// Raises this process's soft descriptor limit towards `wanted` (never past the hard limit) and
/// returns the soft limit now in force.
@discardableResult
func raiseDescriptorLimit(to wanted: Int) -> Int {
    var limits = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 1024 }
    if limits.rlim_cur < rlim_t(wanted) {
        limits.rlim_cur = min(limits.rlim_max, rlim_t(wanted))
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
    }
    return Int(limits.rlim_cur)
}
