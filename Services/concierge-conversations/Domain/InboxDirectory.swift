import Clients
import Foundation
import Models
import Storage
import Synchronization

/// Inbox sender names and signatures for agents' replies, asked of routing and remembered: in
/// memory for a minute, and on disk so a reply still carries them while routing is down.
final class InboxDirectory: Sendable {
    private let routing: RoutingClient
    private let db: Database
    private let cache = Mutex<[String: (sender: InboxSender, fetched: Date)]>([:])

    init(routing: RoutingClient, db: Database) {
        self.routing = routing
        self.db = db
    }

    func sender(for inboxID: String?) async -> InboxSender? {
        guard let inboxID else { return nil }
        if let hit = cache.withLock({ $0[inboxID] }), Date().timeIntervalSince(hit.fetched) < 60 { return hit.sender }
        if let inbox = try? await routing.inbox(inboxID) {
            let sender = InboxSender(senderName: inbox.senderName, signature: inbox.signature)
            cache.withLock { $0[inboxID] = (sender, Date()) }
            _ = try? db.write { connection in
                try connection.run(
                    "INSERT OR REPLACE INTO inbox_snapshots (id, sender_name, signature, fetched_at) VALUES (?, ?, ?, ?)",
                    inboxID, sender.senderName, sender.signature, Timestamp.now())
            }
            return sender
        }
        return try? db.read { connection in
            try connection.first("SELECT sender_name, signature FROM inbox_snapshots WHERE id = ?", [inboxID]) {
                InboxSender(senderName: $0.string(0), signature: $0.string(1))
            }
        } ?? nil
    }
}
