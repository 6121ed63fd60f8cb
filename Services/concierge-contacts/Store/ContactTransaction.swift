import Outbox
import ServiceRuntime
import Storage

/// One of the contacts service's write transactions, lent by `ContactStore.write`: the store's
/// operations that change things take it, and it carries the change's typed outbox calls and what
/// to do once it has committed.
struct ContactTransaction {
    /// The writer's connection, inside the transaction (Store code only).
    let connection: Connection

    /// Writes a call on another service to the outbox, in this transaction; returns the entry id.
    @discardableResult
    func enqueue(_ call: OutboxCall) throws -> String {
        try Outbox.enqueue(connection, call)
    }

    /// Runs `action` once this transaction has committed (never if it rolls back).
    func afterCommit(_ action: @escaping () -> Void) {
        connection.afterCommit(action)
    }
}

extension ContactStore {
    /// Runs `body` in a write transaction of its own.
    func write<T>(_ body: (ContactTransaction) throws -> T) throws -> T {
        try db.write { try body(ContactTransaction(connection: $0)) }
    }
}
