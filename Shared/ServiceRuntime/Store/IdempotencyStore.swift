import Foundation
import Storage

/// The table of answers kept for `Idempotency-Key` (`IdempotencyKeys`): every service creates it in one
/// of its own numbered migrations, as it does the outbox's tables.
public enum IdempotencySchema {
    public static func create(_ connection: Connection) throws {
        try connection.execute(
            """
            CREATE TABLE idempotency_keys (
                subject TEXT NOT NULL,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                key TEXT NOT NULL,
                body_sha256 BLOB NOT NULL,
                status INTEGER NOT NULL,
                headers TEXT NOT NULL,
                body BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                PRIMARY KEY (subject, method, path, key)
            );
            CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
            """)
    }
}

/// Every line of SQL about kept answers. Only finished answers are written: a request in flight is
/// known in memory alone, so no row can outlive a crash claiming an answer that never came.
struct IdempotencyStore: Sendable {
    /// Who asked what with which key: the key is the client's, so it counts only with the rest.
    struct Scope: Hashable, Sendable {
        let subject: String
        let method: String
        let path: String
        let key: String
    }

    /// A kept answer and the body it answered.
    struct Kept: Sendable, Equatable {
        let bodySHA256: [UInt8]
        let status: Int
        let headers: [[String]]
        let body: [UInt8]
    }

    /// Expired rows removed with each answer kept: the table stays about one day of keys long without
    /// a timer, and no write pays for many.
    static let pruneBatch = 100

    let db: Database

    /// The answer kept for `scope` that has not expired at `now` (ms since 1970), if any.
    func kept(_ scope: Scope, now: Int64) throws -> Kept? {
        try db.read { connection in
            try connection.first(
                """
                SELECT body_sha256, status, headers, body FROM idempotency_keys
                WHERE subject = ? AND method = ? AND path = ? AND key = ? AND expires_at > ?
                """, [scope.subject, scope.method, scope.path, scope.key, now]
            ) { row in
                Kept(
                    bodySHA256: row.bytes(0), status: row.int(1),
                    headers: (try? JSONDecoder().decode([[String]].self, from: Data(row.string(2).utf8))) ?? [],
                    body: row.bytes(3))
            }
        }
    }

    /// Keeps `answer` for `scope` until `expiresAt` (replacing an expired one) and removes a batch of
    /// expired answers.
    func keep(_ answer: Kept, for scope: Scope, now: Int64, expiresAt: Int64) throws {
        let headers = String(decoding: try JSONEncoder().encode(answer.headers), as: UTF8.self)
        try db.write { connection in
            try connection.run(
                """
                INSERT OR REPLACE INTO idempotency_keys
                    (subject, method, path, key, body_sha256, status, headers, body, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    scope.subject, scope.method, scope.path, scope.key, SQLValue.blob(answer.bodySHA256),
                    answer.status, headers, SQLValue.blob(answer.body), now, expiresAt,
                ])
            try connection.run(
                """
                DELETE FROM idempotency_keys WHERE rowid IN
                    (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT \(Self.pruneBatch))
                """, now)
        }
    }

    /// How many answers are kept, expired or not (for tests and diagnostics).
    func count() throws -> Int {
        try db.read { try $0.scalarInt("SELECT count(*) FROM idempotency_keys") ?? 0 }
    }
}
