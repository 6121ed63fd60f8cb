import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Synchronization
import Testing

/// HTTP/1.1 framing as the server speaks it on the wire, checked byte by byte over loopback.
@Suite struct ServerProtocolTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            for i in 0..<3 {
                try await connection.send("GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
                let response = try await connection.response()
                #expect(response.status == 200, "request \(i)")
                #expect(response.bodyText == "pong")
                #expect(response.header("connection") == "keep-alive")
            }
            try await connection.send("GET /ping HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let last = try await connection.response()
            #expect(last.status == 200)
            #expect(last.header("connection") == "close")
            #expect(try await connection.closedByPeer())
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheAnswer() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET /ping HTTP/1.0\r\n\r\n")
            #expect(try await connection.response().status == 200)
            #expect(try await connection.closedByPeer())
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let router = Router()
        for (name, milliseconds) in [("slow", 300), ("fast", 0), ("medium", 100)] {
            router.get("/\(name)", access: .open) { _, _ in
                try await Task.sleep(nanoseconds: UInt64(milliseconds) * 1_000_000)
                return .text(name)
            }
        }
        try await withServer(router) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\nGET /medium HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            var bodies: [String] = []
            for _ in 0..<3 { bodies.append(try await connection.response().bodyText) }
            #expect(bodies == ["slow", "fast", "medium"])
        }
    }

    @Test func chunkedRequestBodyReachesTheHandlerAssembled() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nHel")
            // The rest arrives in pieces that split chunk-size lines and data across reads.
            for piece in ["\r\n4;ext=1\r\n", "lo, \r", "\n5\r\nworld\r\n0\r\n", "X-Trailer: yes\r\n\r\n"] {
                try await Task.sleep(nanoseconds: 20_000_000)
                try await connection.send(piece)
            }
            let response = try await connection.response()
            #expect(response.status == 200)
            #expect(response.bodyText == "Hello, world")
        }
    }

    @Test func expectContinueGets100BeforeTheFinalAnswer() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            // The body is held back until the interim answer arrives, as a real client would.
            let interim = try await connection.response()
            #expect(interim.status == 100)
            try await connection.send("hello")
            let final = try await connection.response()
            #expect(final.status == 200)
            #expect(final.bodyText == "hello")
        }
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request without Host, or with two, is 400; an absolute-form target
    /// is served as its path (§3.2.2); a bare LF ends nothing, and is refused at once rather than
    /// left waiting for the header timeout.
    @Test func hostIsRequiredAbsoluteFormIsServedAndABareLFIs400AtOnce() async throws {
        try await withServer(basicRouter()) { _, port in
            for request in [
                "GET /ping HTTP/1.1\r\nAccept: */*\r\n\r\n",
                "GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET /ping HTTP/1.1\nHost: t\n\n",
                "GET /ping HTTP/1.1\r\nHost: t\n\n",
            ] {
                let connection = try await RawConnection.connect(port: port)
                let start = Monotonic.nanoseconds()
                try await connection.send(request)
                let response = try await connection.response(timeout: 2)
                #expect(response.status == 400, "\(request.debugDescription)")
                #expect(response.header("content-type") == "application/problem+json")
                #expect(try await connection.closedByPeer(timeout: 2))
                #expect(secondsSince(start) < 1, "\(request.debugDescription) answered after \(secondsSince(start)) s")
            }
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET http://t:8080/ping?x=1 HTTP/1.1\r\nHost: t:8080\r\n\r\n")
            let response = try await connection.response()
            #expect(response.status == 200)
            #expect(response.bodyText == "pong")
        }
    }

    @Test func contentLengthWithTransferEncodingIs400AndCloses() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            // A smuggling attempt: whatever follows must not be served as a second request.
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            let response = try await connection.response()
            #expect(response.status == 400)
            #expect(response.header("connection") == "close")
            #expect(response.header("content-type") == "application/problem+json")
            #expect(try await connection.closedByPeer())
            #expect(!connection.text.contains("HTTP/1.1"), "nothing after the 400")
        }
    }

    @Test func twoDifferentContentLengthsAre400AndClose() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
            let response = try await connection.response()
            #expect(response.status == 400)
            #expect(response.header("connection") == "close")
            #expect(try await connection.closedByPeer())
        }
    }

    @Test func repeatedEqualContentLengthsAreAccepted() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
            let response = try await connection.response()
            #expect(response.status == 200)
            #expect(response.bodyText == "hello")
        }
    }

    @Test func oversizeHeadersGet431() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            let big = String(repeating: "a", count: 17 * 1024)
            try await connection.send("GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: \(big)\r\n\r\n")
            let response = try await connection.response()
            #expect(response.status == 431)
            #expect(response.header("connection") == "close")
            #expect(try await connection.closedByPeer())
        }
    }

    @Test func tooManyHeaderFieldsGet431() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            let fields = (0..<101).map { "X-F\($0): v\r\n" }.joined()
            try await connection.send("GET /ping HTTP/1.1\r\n\(fields)\r\n")
            #expect(try await connection.response().status == 431)
        }
    }

    @Test func longURLGets414() async throws {
        try await withServer(basicRouter()) { _, port in
            // 12 KiB of URL is within SPEC §2's 16 KiB for the request line and headers together.
            let fits = try await RawConnection.connect(port: port)
            try await fits.send("GET /ping?q=\(String(repeating: "x", count: 12 * 1024)) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await fits.response().status == 200)
            let connection = try await RawConnection.connect(port: port)
            let path = "/ping?q=" + String(repeating: "x", count: 17 * 1024)
            try await connection.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await connection.response()
            #expect(response.status == 414)
            #expect(try await connection.closedByPeer())
        }
    }

    @Test func bodyOverOneMebibyteGets413() async throws {
        try await withServer(basicRouter()) { _, port in
            // Declared length: refused from the head alone, before any body byte is read.
            let declared = try await RawConnection.connect(port: port)
            try await declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \((1 << 20) + 1)\r\n\r\n")
            let response = try await declared.response()
            #expect(response.status == 413)
            #expect(response.header("connection") == "close")
            #expect(try await declared.closedByPeer())

            // Chunked: refused as soon as a chunk would pass the limit.
            let chunked = try await RawConnection.connect(port: port)
            try await chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n")
            #expect(try await chunked.response().status == 413)

            // Exactly 1 MiB is still fine.
            let client = HTTPClient()
            let body = [UInt8](repeating: 7, count: 1 << 20)
            let ok = try await client.send(.init(method: "POST", url: url(port, "/echo"), body: body))
            #expect(ok.status == 200)
            #expect(ok.body == body)
        }
    }

    @Test func headGetsHeadersWithoutABody() async throws {
        try await withServer(basicRouter()) { _, port in
            let connection = try await RawConnection.connect(port: port)
            // HEAD then GET pipelined: if HEAD carried body bytes, the second answer would not parse.
            try await connection.send("HEAD /ping HTTP/1.1\r\nHost: t\r\n\r\nGET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try await connection.response(bodyless: true)
            #expect(head.status == 200)
            #expect(head.header("content-length") == "4")
            #expect(head.header("content-type") == "text/plain; charset=utf-8")
            let get = try await connection.response()
            #expect(get.status == 200)
            #expect(get.bodyText == "pong")
        }
    }
}
