import ConciergeModels
import Events
import Outbox
import ServiceRuntime
import Storage

/// One of the contacts service's write transactions, lent by `ContactStore.write`: the store's
/// operations that change things take it, and it carries the change's typed outbox calls, its events
/// and what to do once it has committed.
struct ContactTransaction {
    /// The writer's connection, inside the transaction (Store code only).
    let connection: Connection
    let events: EventLog

    /// Writes a call on another service to the outbox, in this transaction; returns the entry id.
    @discardableResult
    func enqueue(_ call: OutboxCall) throws -> String {
        try Outbox.enqueue(connection, call)
    }

    /// Records `event` about `contact` (as it is after the change) in this transaction: published once
    /// it commits, never if it rolls back. Contacts' events are for managers and services only
    /// (no agent audience).
    /// - Returns: the contact with its JSON, encoded once for the event's data and the route's answer.
    @discardableResult
    func record(_ event: ContactEvent, _ contact: Contact) throws -> WrittenContact {
        let written = WrittenContact(contact)
        try events.record(connection, event.type, data: event.data(contactJSON: written.json), audience: nil)
        return written
    }

    /// Runs `action` once this transaction has committed (never if it rolls back).
    func afterCommit(_ action: @escaping () -> Void) {
        connection.afterCommit(action)
    }
}

extension ContactStore {
    /// Runs `body` in a write transaction of its own.
    func write<T>(_ body: (ContactTransaction) throws -> T) throws -> T {
        try db.write { try body(ContactTransaction(connection: $0, events: events)) }
    }
}
