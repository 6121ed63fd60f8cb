import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Synchronization
import Testing

/// Ids the body-less archive route was run for (only `aBodyOfAnotherTypeIs415EvenWhereTheBodyIsNotRead` calls it).
private let archived = Mutex<[String]>([])

/// How the server turns routing misses and handler errors into RFC 9457 answers, request ids and metrics.
@Suite struct ServerErrorTests {
    enum WidgetError: Error, ProblemConvertible {
        case sold(String)
        var problem: Problem {
            switch self {
            case .sold(let id): Problem(status: 409, title: "Widget sold", detail: "Widget \(id) is already sold.")
            }
        }
    }

    struct SecretFailure: Error, CustomStringConvertible {
        var description: String { "database password is hunter2" }
    }

    struct NewWidget: Decodable {
        let name: String
        let count: Int
    }

    static func router() -> Router {
        let router = basicRouter()
        router.put("/widgets/{id}", access: .open) { _, context in
            throw WidgetError.sold(try context.parameters.require("id"))
        }
        router.get("/boom", access: .open) { _, _ in throw SecretFailure() }
        router.post("/widgets", access: .open) { request, _ in
            let widget = try request.decode(NewWidget.self)
            return .text("\(widget.name) x\(widget.count)", status: 201)
        }
        router.post("/raw-decode", access: .open) { request, _ in
            // Bypasses Request.decode, so the server's own DecodingError mapping answers.
            let widget = try JSONDecoder().decode(NewWidget.self, from: Data(request.body))
            return .text(widget.name)
        }
        router.post("/widgets/{id}/archive", access: .open) { _, context in
            // Reads no body: the server alone decides whether its media type is acceptable.
            let id = try context.parameters.require("id")
            archived.withLock { $0.append(id) }
            return .text("archived")
        }
        router.get("/request-id", access: .open) { request, context in
            .text(context.requestID + "|" + (request.header("x-request-id") ?? "-"))
        }
        return router
    }

    @Test func unknownRouteIs404ProblemJSON() async throws {
        try await withServer(Self.router()) { _, port in
            let response = try await HTTPClient().get(url(port, "/nowhere"))
            #expect(response.status == 404)
            #expect(response.header("content-type") == "application/problem+json")
            let problem = try #require(response.problem)
            #expect(problem.status == 404)
            #expect(problem.detail?.contains("/nowhere") == true)
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await withServer(Self.router()) { _, port in
            let response = try await HTTPClient().send(ClientRequest(method: "DELETE", url: url(port, "/widgets")))
            #expect(response.status == 405)
            #expect(response.header("allow") == "POST")
            #expect(response.header("content-type") == "application/problem+json")
            #expect(response.problem?.status == 405)
        }
    }

    @Test func problemConvertibleErrorBecomesItsProblem() async throws {
        try await withServer(Self.router()) { _, port in
            let response = try await HTTPClient().send(ClientRequest(method: "PUT", url: url(port, "/widgets/w-7")))
            #expect(response.status == 409)
            #expect(response.header("content-type") == "application/problem+json")
            let problem = try #require(response.problem)
            #expect(problem.title == "Widget sold")
            #expect(problem.detail == "Widget w-7 is already sold.")
        }
    }

    @Test func arbitraryErrorIs500WithoutInternalDetail() async throws {
        let sink = MemorySink()
        try await withServer(Self.router(), logSink: sink) { _, port in
            let response = try await HTTPClient().get(url(port, "/boom"))
            #expect(response.status == 500)
            #expect(response.header("content-type") == "application/problem+json")
            #expect(!response.text.contains("hunter2"))
            #expect(!response.text.contains("SecretFailure"))
            let requestID = try #require(response.header("x-request-id"))
            #expect(response.problem?.detail?.contains(requestID) == true, "the detail points to the log line")
            // The detail goes to the log, at error level, with the request id.
            let logged = sink.lines.first { $0.contains("\"level\":\"error\"") && $0.contains("hunter2") }
            #expect(logged?.contains(requestID) == true)
        }
    }

    @Test(arguments: [
        (#"{"name": "w", "count": "three"}"#, "count"),
        (#"{"count": 3}"#, "name"),
        (#"{"name": null, "count": 3}"#, "name"),
    ])
    func decodingErrorIs400NamingTheField(body: String, field: String) async throws {
        try await withServer(Self.router()) { _, port in
            for path in ["/widgets", "/raw-decode"] {
                let response = try await HTTPClient().postJSON(url(port, path), body)
                #expect(response.status == 400, "\(path)")
                #expect(response.header("content-type") == "application/problem+json")
                let problem = try #require(response.problem)
                #expect(problem.errors?.first?.field == field, "\(path)")
                #expect(problem.detail?.contains(field) == true, "\(path)")
            }
        }
    }

    @Test func invalidJSONAndWrongContentTypeAreRefused() async throws {
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            let broken = try await client.postJSON(url(port, "/widgets"), #"{"name": "#)
            #expect(broken.status == 400)
            let form = try await client.send(
                ClientRequest(
                    method: "POST", url: url(port, "/widgets"), headers: [("Content-Type", "text/plain")],
                    body: Array("x".utf8)))
            #expect(form.status == 415)
            let created = try await client.postJSON(url(port, "/widgets"), #"{"name": "w", "count": 3, "extra": true}"#)
            #expect(created.status == 201)
            #expect(created.text == "w x3")
        }
    }

    /// SPEC §2: a POST/PUT/PATCH with another content type gets 415, also on a route that reads no
    /// body — and the handler does not run. No body at all needs no content type.
    @Test func aBodyOfAnotherTypeIs415EvenWhereTheBodyIsNotRead() async throws {
        archived.withLock { $0.removeAll() }
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            for headers in [
                [("Content-Type", "text/plain")], [("Content-Type", "application/x-www-form-urlencoded")], [],
            ] {
                let refused = try await client.send(
                    ClientRequest(
                        method: "POST", url: url(port, "/widgets/w1/archive"), headers: headers,
                        body: Array("please".utf8)))
                #expect(refused.status == 415, "\(headers)")
                #expect(refused.header("content-type") == "application/problem+json")
            }
            #expect(archived.withLock { $0 }.isEmpty)
            let bare = try await client.send(ClientRequest(method: "POST", url: url(port, "/widgets/w1/archive")))
            #expect(bare.status == 200)
            let json = try await client.send(
                ClientRequest(
                    method: "POST", url: url(port, "/widgets/w2/archive"),
                    headers: [("Content-Type", "application/merge-patch+json")],
                    body: Array("{}".utf8)))
            #expect(json.status == 200)
            #expect(archived.withLock { $0 } == ["w1", "w2"])
        }
    }

    @Test func requestIDIsEchoedWhenGivenAndMadeWhenNot() async throws {
        try await withServer(Self.router()) { _, port in
            let client = HTTPClient()
            let given = try await client.get(url(port, "/request-id"), headers: [("X-Request-ID", "abc-123.x_y:z")])
            #expect(given.header("x-request-id") == "abc-123.x_y:z")
            #expect(given.text == "abc-123.x_y:z|abc-123.x_y:z")

            let first = try await client.get(url(port, "/request-id"))
            let second = try await client.get(url(port, "/request-id"))
            let firstID = try #require(first.header("x-request-id"))
            let secondID = try #require(second.header("x-request-id"))
            #expect(!firstID.isEmpty)
            #expect(firstID != secondID)
            #expect(first.text == firstID + "|-")

            // Any printable ASCII id is taken as sent; one with a quote or backslash is replaced, not echoed.
            let spaced = try await client.get(
                url(port, "/request-id"), headers: [("X-Request-ID", "order/42 retry#{1}")])
            #expect(spaced.header("x-request-id") == "order/42 retry#{1}")
            for hostileID in ["a\"b{c}", "back\\slash"] {
                let hostile = try await client.get(url(port, "/request-id"), headers: [("X-Request-ID", hostileID)])
                let replaced = try #require(hostile.header("x-request-id"))
                #expect(replaced != hostileID)
            }

            // Error answers carry one too.
            let missing = try await client.get(url(port, "/nowhere"), headers: [("X-Request-ID", "lost-1")])
            #expect(missing.header("x-request-id") == "lost-1")
        }
    }

    /// Labels come from what the server knows, never from what a client invents: otherwise every new
    /// method name is a new series kept for the life of the process.
    @Test func inventedMethodsShareOneMetricLabelAndAre405WithoutAnEcho() async throws {
        try await withServer(Self.router()) { server, port in
            let client = HTTPClient()
            for i in 0..<50 {
                let method = "X\(i)" + String(repeating: "M", count: 2_000)
                let refused = try await client.send(ClientRequest(method: method, url: url(port, "/ping")))
                #expect(refused.status == 405)
                #expect(refused.header("allow") == "GET")
                let detail = try #require(refused.problem?.detail)
                #expect(detail.utf8.count < 100, "405 detail echoes the method: \(detail.prefix(80))…")
                #expect(
                    try await client.send(ClientRequest(method: method, url: url(port, "/nowhere/\(i)"))).status == 404)
            }
            #expect(
                try await client.send(ClientRequest(method: "DELETE", url: url(port, "/ping"))).problem?.detail
                    == "DELETE is not allowed here.")
            let series = server.metrics.render().split(separator: "\n").filter { $0.hasPrefix("http_requests_total{") }
            #expect(
                series.sorted() == [
                    #"http_requests_total{method="DELETE",route="unmatched",status="405"} 1"#,
                    #"http_requests_total{method="other",route="unmatched",status="404"} 50"#,
                    #"http_requests_total{method="other",route="unmatched",status="405"} 50"#,
                ])
        }
    }

    @Test func metricsCountRequestsByMethodRouteAndStatus() async throws {
        try await withServer(Self.router()) { server, port in
            let client = HTTPClient()
            for _ in 0..<3 { _ = try await client.get(url(port, "/ping")) }
            _ = try await client.get(url(port, "/nowhere"))
            _ = try await client.send(ClientRequest(method: "PUT", url: url(port, "/widgets/w-1")))
            let text = server.metrics.render()
            #expect(text.contains(#"http_requests_total{method="GET",route="/ping",status="200"} 3"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(text.contains(#"http_requests_total{method="PUT",route="/widgets/{id}",status="409"} 1"#))
            #expect(text.contains(#"http_request_duration_seconds_count{route="/ping"} 3"#))
            #expect(text.contains("# TYPE http_requests_total counter"))
            #expect(text.contains("# TYPE http_request_duration_seconds histogram"))
        }
    }
}
