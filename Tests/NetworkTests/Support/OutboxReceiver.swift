import ConciergeAuth
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import Outbox
import Storage
import Synchronization

/// The receiving end of outbox deliveries: an in-process server route that records every attempt
/// and answers with the status `decide` picks for that entry and attempt number (1-based).
final class OutboxReceiver: Sendable {
    struct Attempt: Sendable {
        let key: String
        let requestID: String?
        let body: String
        let status: Int
        let at: UInt64
    }

    static let path = "/v1/internal/events"
    private let attempts = Mutex<[Attempt]>([])
    private let decide: @Sendable (_ key: String, _ attempt: Int) -> Int

    init(_ decide: @escaping @Sendable (_ key: String, _ attempt: Int) -> Int = { _, _ in 200 }) {
        self.decide = decide
    }

    var all: [Attempt] { attempts.withLock { $0 } }
    var delivered: [Attempt] { all.filter { (200..<300).contains($0.status) } }
    func attempts(for key: String) -> [Attempt] { all.filter { $0.key == key } }

    func router() -> Router {
        let router = Router()
        router.post(Self.path, access: .services) { [self] request, _ in
            let key = request.header("idempotency-key") ?? "-"
            let status = attempts.withLock { list in
                let status = decide(key, list.filter { $0.key == key }.count + 1)
                list.append(
                    Attempt(
                        key: key, requestID: request.header("x-request-id"),
                        body: String(decoding: request.body, as: UTF8.self),
                        status: status, at: Monotonic.nanoseconds()))
                return status
            }
            guard status < 300 else {
                return .problem(Problem(status: status, title: "Refused", detail: "test receiver answered \(status)"))
            }
            return .json(bytes: Array(#"{"ok":true}"#.utf8), status: status)
        }
        return router
    }
}

/// One event as the tests enqueue it.
struct TestEvent: Codable, Sendable, Equatable {
    let name: String
}

enum OutboxFixture {
    static let target = "receiver"
    static let migrations = [
        Migration(1, "outbox") { try OutboxSchema.create($0) },
        Migration(2, "outbox ordering key") { try OutboxSchema.addOrderingKey($0) },
        Migration(3, "outbox kind") { try OutboxSchema.addKind($0) },
    ]

    /// A fresh database file in its own temporary folder.
    static func databasePath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("network-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("outbox.sqlite").path
    }

    static func outbox(_ db: Database, port: Int) -> Outbox {
        let token: @Sendable () -> String = { testSigner.mint(sub: "conversations", role: .service, ttl: 3600) }
        return Outbox(
            db: db, targets: [target: .init(baseURL: "http://127.0.0.1:\(port)", token: token)], http: HTTPClient(),
            logger: Logger(service: "network-tests", sink: MemorySink()), attemptTimeout: 10)
    }

    @discardableResult
    static func enqueue(_ db: Database, _ names: [String], key: String? = nil, requestID: String? = nil) throws
        -> [String]
    {
        try RequestTrace.$requestID.withValue(requestID) {
            try db.write { connection in
                try names.map { name in
                    try Outbox.enqueue(connection, call(name, key: key), id: name)
                }
            }
        }
    }

    /// A call to the test receiver carrying `name`.
    static func call(_ name: String, key: String?) throws -> OutboxCall {
        try OutboxCall(
            kind: "test-event", target: target, path: OutboxReceiver.path, body: TestEvent(name: name), key: key)
    }

    static func count(_ db: Database, _ table: String) throws -> Int {
        try db.read { try $0.scalarInt("SELECT count(*) FROM \(table)") } ?? 0
    }

    /// Runs the dispatcher for the duration of `body`; always stops it and waits for it to end.
    static func withDispatcher<T: Sendable>(_ outbox: Outbox, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await outbox.run() }
            do {
                let result = try await body()
                outbox.stop()
                try await group.waitForAll()
                return result
            } catch {
                outbox.stop()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
