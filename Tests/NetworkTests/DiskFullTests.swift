import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import ServiceRuntime
import Storage
import TestSupport
import Testing

/// A full disk answers a write with 507 and a problem saying so (never a bare 500), is said once in
/// the log, and lasts only until a write commits again. The disk is "full" here because SQLite's
/// `max_page_count` stops the file growing: the same SQLITE_FULL a full disk gives.
@Suite struct DiskFullTests {
    @Test func aFullDiskIs507NotReadyAndSaidOnceUntilAWriteCommitsAgain() async throws {
        try await withTemporaryFolderAsync { folder in
            let path = folder + "/full.sqlite"
            let db = try Database(
                path: path,
                migrations: [Migration(1, "blobs") { try $0.execute("CREATE TABLE blobs (data BLOB NOT NULL)") }],
                checkpointInterval: nil)
            let log = MemorySink()
            let storage = StorageHealth(db: db, logger: Logger(service: "disk-tests", sink: log), databasePath: path)
            let router = Router()
            router.post("/v1/blobs", access: .open) { _, _ in
                try db.write { try $0.run("INSERT INTO blobs (data) VALUES (zeroblob(200000))") }
                return .noContent()
            }
            try await withServer(router, logSink: MemorySink(), problemFor: { storage.problem(for: $0) }) { _, port in
                let url = "http://127.0.0.1:\(port)/v1/blobs"
                try db.write { try $0.execute("PRAGMA max_page_count = 1") }
                for _ in 0..<2 {
                    let refused = try await HTTPClient().send(ClientRequest(method: "POST", url: url), timeout: 5)
                    #expect(refused.status == 507)
                    let problem = try JSONDecoder().decode(Problem.self, from: Data(refused.body))
                    #expect(problem.title == "Insufficient storage")
                    #expect(problem.detail?.contains("full") == true)
                }
                #expect(storage.isDiskFull)
                #expect(storage.readiness == .notReady("disk full"))
                #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM blobs") } == 0, "nothing was written")
                #expect(log.lines.filter { $0.contains("disk holding the database is full") }.count == 1, "said once")
                // Space again: the next write commits and the service is well again.
                try db.write { try $0.execute("PRAGMA max_page_count = 1073741823") }
                let stored = try await HTTPClient().send(ClientRequest(method: "POST", url: url), timeout: 5)
                #expect(stored.status == 204)
                #expect(!storage.isDiskFull)
                #expect(storage.readiness == .ready)
            }
        }
    }
}
