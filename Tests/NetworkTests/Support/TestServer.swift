import ConciergeAuth
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer

/// The secret every test token is signed with (≥ 32 bytes, as SPEC §1 requires).
let testSecret = "network-tests-secret-0123456789abcdef"
let testSigner = JWTSigner(secret: testSecret)

/// Runs our real `HTTPServer` on `127.0.0.1`, port 0, for the duration of `body`, which gets the
/// server and the bound port. The server is always shut down and `run()` awaited before returning,
/// whether `body` returns or throws.
func withServer<T: Sendable>(
    _ router: Router,
    signer: JWTSigner? = testSigner,
    revocation: (any TokenRevocation)? = nil,
    logSink: MemorySink = MemorySink(),
    problemFor: (@Sendable (any Error) -> Problem?)? = nil,
    idempotentRequests: (any IdempotentRequests)? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
    configuration.shutdownGraceSeconds = 5
    configure(&configuration)
    let server = HTTPServer(
        configuration, router: router, logger: Logger(service: "network-tests", level: .debug, sink: logSink),
        signer: signer, revocation: revocation, metrics: Metrics(), problemFor: problemFor,
        idempotentRequests: idempotentRequests)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let port = try await server.waitUntilListening()
            let result = try await body(server, port)
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

/// A router with the small set of routes most server tests use.
func basicRouter() -> Router {
    let router = Router()
    router.get("/ping", access: .open) { _, _ in .text("pong") }
    router.post("/echo", access: .open, acceptsAnyBody: true) { request, _ in
        Response(status: 200, headers: [("Content-Type", "application/octet-stream")], body: request.body)
    }
    return router
}

func url(_ port: Int, _ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

extension HTTPClient {
    func get(_ url: String, headers: [(name: String, value: String)] = []) async throws -> ClientResponse {
        try await send(ClientRequest(method: "GET", url: url, headers: headers))
    }

    func postJSON(_ url: String, _ json: String, headers: [(name: String, value: String)] = []) async throws
        -> ClientResponse
    {
        try await send(
            ClientRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers,
                body: Array(json.utf8)))
    }
}

extension ClientResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as a problem document, if it is one.
    var problem: Problem? { try? JSONDecoder().decode(Problem.self, from: Data(body)) }
}

func bearer(_ token: String) -> [(name: String, value: String)] { [("Authorization", "Bearer \(token)")] }
