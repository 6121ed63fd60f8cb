import Events
import Outbox
import ServiceRuntime
import Storage

/// One of the conversations service's write transactions, lent by `ConversationStore.write` (or
/// `writeShared`, through the group writer): the store's operations that change things take it, and
/// it carries the change's typed outbox calls and what to do once it has committed.
struct ConversationTransaction {
    /// The writer's connection, inside the transaction (Store code only).
    let connection: Connection
    /// Where the transaction records the events of what it changes (`ConversationEvents`).
    let events: EventLog

    /// Writes a call on another service to the outbox, in this transaction; returns the entry id.
    @discardableResult
    func enqueue(_ call: OutboxCall, heldFor: Double? = nil) throws -> String {
        try Outbox.enqueue(connection, call, heldFor: heldFor)
    }

    /// Runs `action` once this transaction has committed (never if it rolls back).
    func afterCommit(_ action: @escaping () -> Void) {
        connection.afterCommit(action)
    }
}

extension ConversationStore {
    /// Runs `body` in a write transaction of its own.
    func write<T>(_ body: (ConversationTransaction) throws -> T) throws -> T {
        try db.write { try body(ConversationTransaction(connection: $0, events: events)) }
    }

    /// Runs `body` in the group writer's next shared transaction (the inbound path).
    func writeShared<T: Sendable>(_ body: @escaping @Sendable (ConversationTransaction) throws -> T) async throws -> T {
        let events = self.events
        return try await writer.write { try body(ConversationTransaction(connection: $0, events: events)) }
    }
}
