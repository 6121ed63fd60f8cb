import ConciergeClients
import ConciergeModels
import Foundation
import Synchronization

/// Inbox sender names and signatures for agents' replies, asked of routing and remembered: in
/// memory for a minute, and on disk so a reply still carries them while routing is down.
final class InboxDirectory: Sendable {
    private let routing: RoutingClient
    private let store: ConversationStore
    private let cache = Mutex<[String: (sender: InboxSender, fetched: Date)]>([:])

    init(routing: RoutingClient, store: ConversationStore) {
        self.routing = routing
        self.store = store
    }

    func sender(for inboxID: String?) async -> InboxSender? {
        guard let inboxID else { return nil }
        if let hit = cache.withLock({ $0[inboxID] }), Date().timeIntervalSince(hit.fetched) < 60 { return hit.sender }
        if let inbox = try? await routing.inbox(inboxID) {
            let sender = InboxSender(senderName: inbox.senderName, signature: inbox.signature)
            cache.withLock { $0[inboxID] = (sender, Date()) }
            try? store.saveInboxSender(sender, inboxID: inboxID)
            return sender
        }
        return try? store.storedInboxSender(inboxID: inboxID)
    }
}
