import ConciergeAuth
import ConciergeCore
import ConciergeModels
import Foundation
import Storage

/// Every line of SQL about webhooks: the administrators' resource, and what the dispatcher owes each.
public struct WebhookStore: Sendable {
    let db: Database
    let time: any TimeSource

    public init(db: Database, time: any TimeSource = SystemTime()) {
        self.db = db
        self.time = time
    }

    /// A webhook as the dispatcher sees it.
    struct Target: Sendable {
        var id: String
        var url: String
        var types: [String]
        var secrets: [String]
        var cursor: Int64
        var attempt: Int
        var failingSince: Int64?
    }

    private static let columns = """
        id, url, types, description, status, disabled_reason, created_at, updated_at, secret, previous_secret,
        previous_secret_until, cursor, attempt, failing_since, next_attempt_at
        """

    private static func webhook(_ row: Row) -> Webhook {
        Webhook(
            id: row.string(0), url: row.string(1), types: ListCoding.values(row.string(2)),
            description: row.optionalString(3), status: Webhook.Status(rawValue: row.string(4)) ?? .paused,
            disabledReason: row.optionalString(5), createdAt: row.string(6), updatedAt: row.string(7))
    }

    private var nowMillis: Int64 { Int64((time.now.timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: - The resource

    /// Creates a webhook that receives the events committed from now on; returns it with its secret.
    public func create(_ input: NewWebhook, startingAfter cursor: Int64) throws -> Webhook {
        let now = Timestamp.format(time.now)
        var webhook = Webhook(
            id: Identifier.make(), url: input.url, types: input.types, description: input.description,
            status: .active, disabledReason: nil, secret: WebhookSignature.makeSecret(), createdAt: now,
            updatedAt: now)
        try db.write { connection in
            try connection.run(
                """
                INSERT INTO webhooks (id, url, types, description, status, secret, cursor, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)
                """, webhook.id, webhook.url, ListCoding.join(webhook.types), webhook.description, webhook.secret,
                cursor, now, now)
        }
        webhook.status = .active
        return webhook
    }

    public func count() throws -> Int {
        try db.read { try $0.scalarInt("SELECT count(*) FROM webhooks") ?? 0 }
    }

    /// Newest first, paged by creation.
    public func list(limit: Int, before cursor: String?) throws -> Page<Webhook> {
        let rows = try db.read { connection in
            try connection.query(
                """
                SELECT \(Self.columns), rowid FROM webhooks WHERE rowid < ? ORDER BY rowid DESC LIMIT ?
                """, [cursor.flatMap { Int64($0) } ?? Int64.max, limit + 1]
            ) { (Self.webhook($0), $0.int64(15)) }
        }
        return Page(rows: rows, limit: limit)
    }

    public func get(_ id: String) throws -> Webhook? {
        try db.read { connection in
            try connection.first("SELECT \(Self.columns) FROM webhooks WHERE id = ?", [id], Self.webhook)
        }
    }

    /// Applies a patch; returns the webhook after it, or `nil` if there is none. Re-activating one
    /// resumes with the first event it has not had that is still kept, and tries at once.
    public func update(_ id: String, _ patch: WebhookPatch, oldestKept: Int64) throws -> Webhook? {
        try db.write { connection in
            guard
                let current = try connection.first(
                    "SELECT \(Self.columns) FROM webhooks WHERE id = ?", [id], Self.webhook)
            else { return nil }
            let now = Timestamp.format(time.now)
            var changed = false
            if let url = patch.url, url != current.url {
                try connection.run("UPDATE webhooks SET url = ?, next_attempt_at = 0 WHERE id = ?", url, id)
                changed = true
            }
            if let types = patch.types, types != current.types {
                try connection.run("UPDATE webhooks SET types = ? WHERE id = ?", ListCoding.join(types), id)
                changed = true
            }
            if let description = patch.description, description != current.description {
                try connection.run("UPDATE webhooks SET description = ? WHERE id = ?", description, id)
                changed = true
            }
            if let status = patch.status, status != current.status {
                if status == .active {
                    try connection.run(
                        """
                        UPDATE webhooks SET status = 'active', disabled_reason = NULL, attempt = 0, failing_since = NULL,
                            next_attempt_at = 0, cursor = max(cursor, ?) WHERE id = ?
                        """, oldestKept - 1, id)
                } else {
                    try connection.run("UPDATE webhooks SET status = ? WHERE id = ?", status.rawValue, id)
                }
                changed = true
            }
            if changed { try connection.run("UPDATE webhooks SET updated_at = ? WHERE id = ?", now, id) }
            return try connection.first("SELECT \(Self.columns) FROM webhooks WHERE id = ?", [id], Self.webhook)
        }
    }

    /// Deletes a webhook and its delivery log; `false` if there was none.
    public func delete(_ id: String) throws -> Bool {
        try db.write { connection in
            try connection.run("DELETE FROM webhook_deliveries WHERE webhook_id = ?", id)
            return try connection.run("DELETE FROM webhooks WHERE id = ?", id) > 0
        }
    }

    /// A new secret; the old one still signs (beside it) for `overlap` seconds. Returns the webhook
    /// with the new secret, or `nil` if there is none.
    public func rotateSecret(_ id: String, overlap: TimeInterval = 24 * 3600) throws -> Webhook? {
        try db.write { connection in
            guard
                var webhook = try connection.first(
                    "SELECT \(Self.columns) FROM webhooks WHERE id = ?", [id], Self.webhook)
            else { return nil }
            let secret = WebhookSignature.makeSecret()
            let now = Timestamp.format(time.now)
            try connection.run(
                """
                UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?, secret = ?, updated_at = ?
                WHERE id = ?
                """, nowMillis + Int64(overlap * 1000), secret, now, id)
            webhook.secret = secret
            webhook.updatedAt = now
            return webhook
        }
    }

    /// Sends again every kept event after `after`: the cursor goes back there (never forward).
    public func replay(_ id: String, after: Int64) throws -> Bool {
        try db.write { connection in
            try connection.run(
                """
                UPDATE webhooks SET cursor = min(cursor, ?), attempt = 0, failing_since = NULL, next_attempt_at = 0
                WHERE id = ?
                """, after, id) > 0
        }
    }

    /// The delivery log, newest first.
    public func deliveries(_ id: String, limit: Int, before cursor: String?) throws -> Page<WebhookDelivery> {
        let rows = try db.read { connection in
            try connection.query(
                """
                SELECT event_id, event_seq, type, attempt, status, response_status, error, duration_ms, attempted_at,
                    next_attempt_at, seq
                FROM webhook_deliveries WHERE webhook_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?
                """, [id, cursor.flatMap { Int64($0) } ?? Int64.max, limit + 1]
            ) { row in
                (
                    WebhookDelivery(
                        eventId: row.string(0), seq: row.int64(1), type: row.string(2), attempt: row.int(3),
                        status: WebhookDelivery.Status(rawValue: row.string(4)) ?? .failed,
                        responseStatus: row.optionalInt(5), error: row.optionalString(6),
                        durationMs: row.optionalInt(7), attemptedAt: Self.format(row.int64(8)),
                        nextAttemptAt: row.isNull(9) ? nil : Self.format(row.int64(9))),
                    row.int64(10)
                )
            }
        }
        return Page(rows: rows, limit: limit)
    }

    static func format(_ millis: Int64) -> String {
        Timestamp.format(Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    // MARK: - The dispatcher's side

    /// Active webhooks due now, and the earliest time one that is not will be.
    func due() throws -> (targets: [Target], nextAt: Int64?) {
        try due(onlyID: nil)
    }

    /// One webhook as it is now, if it is active and due: what a delivery pass starts from, read after
    /// the pass has claimed the webhook (a list read before may be older than another pass's last
    /// delivery).
    func current(_ id: String) throws -> Target? {
        try due(onlyID: id).targets.first
    }

    private func due(onlyID: String?) throws -> (targets: [Target], nextAt: Int64?) {
        let now = nowMillis
        return try db.read { connection in
            var targets: [Target] = []
            var nextAt: Int64?
            try connection.forEach(
                """
                SELECT id, url, types, secret, previous_secret, previous_secret_until, cursor, attempt, failing_since,
                    next_attempt_at
                FROM webhooks WHERE status = 'active' AND (? IS NULL OR id = ?)
                """, [onlyID, onlyID]
            ) { row in
                let dueAt = row.int64(9)
                guard dueAt <= now else {
                    nextAt = min(nextAt ?? dueAt, dueAt)
                    return
                }
                var secrets = [row.string(3)]
                if let previous = row.optionalString(4), !row.isNull(5), row.int64(5) > now { secrets.append(previous) }
                targets.append(
                    Target(
                        id: row.string(0), url: row.string(1), types: ListCoding.values(row.string(2)),
                        secrets: secrets, cursor: row.int64(6), attempt: row.int(7),
                        failingSince: row.isNull(8) ? nil : row.int64(8)))
            }
            return (targets, nextAt)
        }
    }

    /// The event at `seq` was delivered: the cursor moves past it and the log says so. Only if the
    /// cursor is still where the attempt began (an administrator's replay meanwhile wins).
    func delivered(
        _ target: Target, event: (id: String, seq: Int64, type: String), responseStatus: Int, durationMs: Int
    ) throws {
        let now = nowMillis
        try db.write { connection in
            try connection.run(
                """
                UPDATE webhooks SET cursor = ?, attempt = 0, failing_since = NULL, next_attempt_at = 0
                WHERE id = ? AND cursor = ?
                """, event.seq, target.id, target.cursor)
            try connection.run(
                """
                INSERT INTO webhook_deliveries (webhook_id, event_id, event_seq, type, attempt, status, response_status,
                    duration_ms, attempted_at) VALUES (?, ?, ?, ?, ?, 'succeeded', ?, ?, ?)
                """, target.id, event.id, event.seq, event.type, target.attempt + 1, responseStatus, durationMs, now)
        }
    }

    /// Nothing the webhook wants up to `seq`: the cursor skips there.
    func skip(_ target: Target, through seq: Int64) throws {
        try db.write { connection in
            try connection.run(
                "UPDATE webhooks SET cursor = ? WHERE id = ? AND cursor = ?", seq, target.id, target.cursor)
        }
    }

    /// A failed attempt: logged, and either retried at `retryAt` or, past the window, the webhook is
    /// disabled with `reason`.
    func failed(
        _ target: Target, event: (id: String, seq: Int64, type: String), responseStatus: Int?, error: String,
        durationMs: Int, retryAt: Int64?, disabledReason: String?
    ) throws {
        let now = nowMillis
        try db.write { connection in
            if let disabledReason {
                try connection.run(
                    """
                    UPDATE webhooks SET status = 'disabled', disabled_reason = ?, attempt = attempt + 1,
                        updated_at = ? WHERE id = ? AND cursor = ?
                    """, disabledReason, Timestamp.format(time.now), target.id, target.cursor)
            } else {
                try connection.run(
                    """
                    UPDATE webhooks SET attempt = attempt + 1, failing_since = coalesce(failing_since, ?),
                        next_attempt_at = ? WHERE id = ? AND cursor = ?
                    """, now, retryAt ?? now, target.id, target.cursor)
            }
            try connection.run(
                """
                INSERT INTO webhook_deliveries (webhook_id, event_id, event_seq, type, attempt, status, response_status,
                    error, duration_ms, attempted_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?, ?)
                """, target.id, event.id, event.seq, event.type, target.attempt + 1, responseStatus, error, durationMs,
                now, retryAt)
        }
    }

    /// Deletes log entries older than `cutoff` (milliseconds since 1970).
    @discardableResult
    public func pruneDeliveries(olderThan cutoff: Int64) throws -> Int {
        try db.write { connection in
            try connection.run("DELETE FROM webhook_deliveries WHERE attempted_at < ?", cutoff)
        }
    }
}
