import ConciergeAuth
import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Storage
import Synchronization
import TestSupport
import Testing

@testable import ServiceRuntime

/// `Idempotency-Key` on POST routes (the IETF httpapi draft) through the real server and the real kept
/// answers in SQLite: a repeat is answered from the first answer without running again, another body is
/// 422, a request still running is 409, a malformed key 400, and answers expire after 24 hours.
@Suite struct IdempotencyKeyTests {
    /// A service-shaped test bed: the kept answers' table, a widgets table the handlers write, a clock.
    final class Bed: Sendable {
        let db: Database
        let time = ManualTime()
        let keys: IdempotencyKeys
        let router = Router()
        /// Runs of each handler, by path.
        let runs = Mutex<[String: Int]>([:])
        let started = Flag()
        let release = Flag()

        static let migrations = [
            Migration(1, "kept answers") { try IdempotencySchema.create($0) },
            Migration(2, "widgets") { try $0.execute("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT)") },
        ]

        init(path: String) throws {
            db = try Database(path: path, migrations: Self.migrations, checkpointInterval: nil)
            keys = IdempotencyKeys(db: db, time: time)
            let db = db
            router.post("/widgets") { [self] request, _ in
                count("/widgets")
                let id = try db.write { connection in
                    try connection.run(
                        "INSERT INTO widgets (name) VALUES (?)", String(decoding: request.body, as: UTF8.self))
                    return try connection.scalarInt("SELECT last_insert_rowid()") ?? 0
                }
                var response = Response.json(bytes: Array(#"{"id":\#(id)}"#.utf8), status: 201)
                response.headers.append(("Location", "/widgets/\(id)"))
                return response
            }
            router.post("/slow") { [self] _, _ in
                count("/slow")
                started.set()
                _ = await eventually(within: 10, every: 0.01) { release.isSet }
                return .json(bytes: Array(#"{"done":true}"#.utf8), status: 201)
            }
            router.post("/flaky") { [self] _, _ in
                // The first run fails as a dependency that is down would; later runs succeed.
                guard count("/flaky") > 1 else { throw Problem.unavailable("Try again.") }
                return .json(bytes: Array(#"{"ok":true}"#.utf8), status: 201)
            }
            router.post("/conflict") { [self] _, _ in
                count("/conflict")
                throw Problem.conflict("Busy", detail: "Not now.")
            }
            router.post("/invalid") { [self] _, _ in
                count("/invalid")
                throw Problem.unprocessable("No.", errors: [.init(field: "name", message: "No.")])
            }
            router.post("/upload", streamsBody: true) { [self] _, _ in
                count("/upload")
                return .noContent()
            }
            router.post("/own-rule", idempotencyKey: .notReplayed) { [self] _, _ in
                count("/own-rule")
                return .noContent()
            }
        }

        @discardableResult
        func count(_ path: String) -> Int {
            runs.withLock { runs in
                runs[path, default: 0] += 1
                return runs[path, default: 0]
            }
        }

        func runs(_ path: String) -> Int { runs.withLock { $0[path] ?? 0 } }

        var widgets: Int { (try? db.read { try $0.scalarInt("SELECT count(*) FROM widgets") }) ?? -1 }
    }

    /// Runs `body` with a test bed and a real server on it.
    func withBed(_ body: (Bed, Int) async throws -> Void) async throws {
        try await withTemporaryFolderAsync { folder in
            let bed = try Bed(path: folder + "/keys.sqlite")
            try await withServer(bed.router, idempotentRequests: bed.keys) { _, port in try await body(bed, port) }
        }
    }

    static let ada = testSigner.mint(sub: "ada", role: .agent, ttl: 600)
    static let bob = testSigner.mint(sub: "bob", role: .agent, ttl: 600)

    func post(
        _ port: Int, _ path: String, _ body: String = #"{"name":"first"}"#, key: String?, token: String = ada,
        contentType: String = "application/json"
    ) async throws -> ClientResponse {
        var headers = bearer(token) + [("Content-Type", contentType)]
        if let key { headers.append(("Idempotency-Key", key)) }
        return try await HTTPClient().send(
            ClientRequest(method: "POST", url: url(port, path), headers: headers, body: Array(body.utf8)), timeout: 15)
    }

    @Test func aRepeatGetsTheFirstAnswerWithoutRunningAgain() async throws {
        try await withBed { bed, port in
            let first = try await post(port, "/widgets", key: "order-1")
            let second = try await post(port, "/widgets", key: "order-1")
            #expect(first.status == 201)
            #expect(first.header("idempotency-replayed") == nil)
            #expect(second.status == 201)
            #expect(second.body == first.body)
            #expect(second.header("location") == first.header("location"))
            #expect(second.header("content-type") == "application/json")
            #expect(second.header("idempotency-replayed") == "true")
            #expect(bed.runs("/widgets") == 1)
            #expect(bed.widgets == 1)
            // Quoted as the draft's Structured Field string, the same key.
            let quoted = try await post(port, "/widgets", key: #""order-1""#)
            #expect(quoted.header("idempotency-replayed") == "true")
            // Without a key, or with another, the request runs.
            _ = try await post(port, "/widgets", key: nil)
            _ = try await post(port, "/widgets", key: "order-2")
            #expect(bed.widgets == 3)
        }
    }

    @Test func theSameKeyWithAnotherBodyIs422AndChangesNothing() async throws {
        try await withBed { bed, port in
            _ = try await post(port, "/widgets", #"{"name":"first"}"#, key: "k")
            let other = try await post(port, "/widgets", #"{"name":"second"}"#, key: "k")
            #expect(other.status == 422)
            #expect(other.header("content-type") == "application/problem+json")
            #expect(other.problem?.errors?.first?.field == "Idempotency-Key")
            #expect(bed.runs("/widgets") == 1)
            #expect(bed.widgets == 1)
        }
    }

    @Test func theSameKeyWhileTheFirstIsRunningIs409AndNothingIsStoredYet() async throws {
        try await withBed { bed, port in
            async let first = post(port, "/slow", key: "slow-1")
            #expect(await eventually { bed.started.isSet })
            let busy = try await post(port, "/slow", key: "slow-1")
            #expect(busy.status == 409)
            #expect(busy.header("retry-after") == "1")
            #expect(busy.problem?.title == "Request in progress")
            // Nothing is written for a request in flight: a crash now leaves no answer that never came.
            #expect(try bed.keys.store.count() == 0)
            bed.release.set()
            #expect(try await first.status == 201)
            let repeated = try await post(port, "/slow", key: "slow-1")
            #expect(repeated.status == 201)
            #expect(repeated.header("idempotency-replayed") == "true")
            #expect(bed.runs("/slow") == 1)
        }
    }

    @Test func answersAreKeptFor24HoursThenTheKeyRunsAgain() async throws {
        try await withBed { bed, port in
            _ = try await post(port, "/widgets", key: "daily")
            bed.time.advance(by: 24 * 3600 - 1)
            #expect(try await post(port, "/widgets", key: "daily").header("idempotency-replayed") == "true")
            bed.time.advance(by: 2)
            let late = try await post(port, "/widgets", key: "daily")
            #expect(late.status == 201)
            #expect(late.header("idempotency-replayed") == nil)
            #expect(bed.widgets == 2)
            // The new answer is kept in place of the expired one.
            #expect(try await post(port, "/widgets", key: "daily").body == late.body)
            #expect(try bed.keys.store.count() == 1)
        }
    }

    @Test func expiredAnswersArePrunedWhenOthersAreKept() async throws {
        try await withBed { bed, port in
            for i in 0..<3 { _ = try await post(port, "/widgets", key: "old-\(i)") }
            #expect(try bed.keys.store.count() == 3)
            bed.time.advance(by: 24 * 3600)
            _ = try await post(port, "/widgets", key: "new")
            #expect(try bed.keys.store.count() == 1)
        }
    }

    @Test func serverErrorsAndConflictsAreNotKeptOtherRefusalsAre() async throws {
        try await withBed { bed, port in
            #expect(try await post(port, "/flaky", key: "f").status == 503)
            let retried = try await post(port, "/flaky", key: "f")
            #expect(retried.status == 201, "a 5xx is not kept: the retry runs and may succeed")
            #expect(retried.header("idempotency-replayed") == nil)
            #expect(try await post(port, "/flaky", key: "f").header("idempotency-replayed") == "true")

            #expect(try await post(port, "/conflict", key: "c").status == 409)
            #expect(try await post(port, "/conflict", key: "c").header("idempotency-replayed") == nil)
            #expect(bed.runs("/conflict") == 2)

            #expect(try await post(port, "/invalid", key: "i").status == 422)
            let refused = try await post(port, "/invalid", key: "i")
            #expect(refused.status == 422)
            #expect(refused.header("idempotency-replayed") == "true")
            #expect(refused.header("content-type") == "application/problem+json")
            #expect(bed.runs("/invalid") == 1)
        }
    }

    @Test(arguments: [
        String(repeating: "k", count: 256), "", #""unterminated"#, #""bad \q escape""#, #""""#, "tab\there",
    ])
    func aMalformedKeyIs400AndRunsNothing(_ key: String) async throws {
        try await withBed { bed, port in
            let response = try await post(port, "/widgets", key: key)
            #expect(response.status == 400)
            #expect(response.problem?.errors?.first?.field == "Idempotency-Key")
            #expect(bed.runs("/widgets") == 0)
        }
    }

    @Test func keysAreEachCallersOwnAndEachPathsOwn() async throws {
        try await withBed { bed, port in
            let longest = String(repeating: "k", count: 255)
            _ = try await post(port, "/widgets", key: longest, token: Self.ada)
            let bobs = try await post(port, "/widgets", key: longest, token: Self.bob)
            #expect(bobs.header("idempotency-replayed") == nil)
            #expect(bed.widgets == 2)
            let invalid = try await post(port, "/invalid", key: longest, token: Self.ada)
            #expect(invalid.header("idempotency-replayed") == nil)
        }
    }

    @Test func aRouteWithItsOwnRuleIgnoresTheHeader() async throws {
        try await withBed { bed, port in
            _ = try await post(port, "/own-rule", key: "entry-1")
            _ = try await post(port, "/own-rule", key: "entry-1")
            #expect(bed.runs("/own-rule") == 2)
            #expect(try await post(port, "/own-rule", key: String(repeating: "k", count: 300)).status == 204)
        }
    }

    @Test func aStreamedUploadIsComparedByItsSpooledBytes() async throws {
        try await withBed { bed, port in
            let csv = "email\r\n" + (0..<5000).map { "c\($0)@example.com" }.joined(separator: "\r\n")
            #expect(try await post(port, "/upload", csv, key: "import-1", contentType: "text/csv").status == 204)
            let again = try await post(port, "/upload", csv, key: "import-1", contentType: "text/csv")
            #expect(again.header("idempotency-replayed") == "true")
            let other = try await post(
                port, "/upload", csv + "\r\nx@example.com", key: "import-1", contentType: "text/csv")
            #expect(other.status == 422)
            #expect(bed.runs("/upload") == 1)
        }
    }

    @Test func keptAnswersOutliveTheProcessThatKeptThem() async throws {
        try await withTemporaryFolderAsync { folder in
            let path = folder + "/keys.sqlite"
            let first = try await {
                let bed = try Bed(path: path)
                return try await withServer(bed.router, idempotentRequests: bed.keys) { _, port in
                    try await post(port, "/widgets", key: "durable")
                }
            }()
            let bed = try Bed(path: path)
            try await withServer(bed.router, idempotentRequests: bed.keys) { _, port in
                let again = try await post(port, "/widgets", key: "durable")
                #expect(again.header("idempotency-replayed") == "true")
                #expect(again.body == first.body)
                #expect(bed.runs("/widgets") == 0)
            }
        }
    }

    @Test func withoutAKeptAnswerStoreTheServerRunsEveryRequest() async throws {
        try await withTemporaryFolderAsync { folder in
            let bed = try Bed(path: folder + "/keys.sqlite")
            try await withServer(bed.router) { _, port in
                _ = try await post(port, "/widgets", key: "k")
                _ = try await post(port, "/widgets", key: "k")
                #expect(bed.widgets == 2)
            }
        }
    }
}
