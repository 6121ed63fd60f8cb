import ConciergeModels
import Events
import Foundation
import Storage

/// Every line of the directory's SQL.
struct CustomerStore: Sendable {
    let db: Database
    let events: EventLog

    /// Inserts or updates the customer owning the draft's email or phone; `created` tells which.
    func upsert(_ draft: CustomerDraft) throws -> (Customer, created: Bool) {
        let upsert = PreparedUpsert(draft)
        return try db.write { connection in try Self.upsert(connection, upsert) }
    }

    static func upsert(_ connection: Connection, _ upsert: PreparedUpsert) throws -> (Customer, created: Bool) {
        // Most imported customers are new: try the insert first, which refuses an email or phone already owned.
        if try insertFresh(connection, upsert) { return (upsert.fresh, true) }
        let fresh = upsert.fresh
        // Someone owns the email or the phone, or both; two different owners are a clash.
        let owners = try connection.query(
            "SELECT id, email, record FROM customers WHERE email = ? OR phone = ?",
            [upsert.draft.email, upsert.draft.phone]
        ) { row in (id: row.string(0), email: row.optionalString(1), record: row.bytes(2)) }
        guard let owner = owners.first else {
            // Only a clash of ids gets here; the plain insert reports it.
            try connection.run(
                "INSERT INTO customers (id, email, phone, record) VALUES (?, ?, ?, ?)", fresh.id, fresh.email,
                fresh.phone,
                SQLValue.blob(fresh.record))
            return (fresh, true)
        }
        if owners.count == 2 {
            let (byEmail, byPhone) = owner.email == upsert.draft.email ? (owner, owners[1]) : (owners[1], owner)
            throw CRMError.identityClash(emailOwner: byEmail.id, phoneOwner: byPhone.id)
        }
        let customer = upsert.draft.applied(to: try Customer(record: owner.record), id: owner.id, now: fresh.updatedAt)
        try connection.run(
            "UPDATE customers SET email = ?, phone = ?, record = ? WHERE id = ?", customer.email, customer.phone,
            SQLValue.blob(customer.record), customer.id)
        return (customer, false)
    }

    /// Inserts the upsert's new customer unless a unique index (id, and email and phone when present)
    /// already holds one of its keys; true when inserted.
    static func insertFresh(_ connection: Connection, _ upsert: PreparedUpsert) throws -> Bool {
        let fresh = upsert.fresh
        return try connection.run(
            "INSERT INTO customers (id, email, phone, record) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", fresh.id,
            fresh.email,
            fresh.phone, SQLValue.blob(fresh.record)) == 1
    }

    func get(_ id: String) throws -> Customer {
        let record = try db.read { connection in
            try connection.first("SELECT record FROM customers WHERE id = ?", [id]) { $0.bytes(0) }
        }
        guard let record else { throw CRMError.customerNotFound(id) }
        return try Customer(record: record)
    }

    func delete(_ id: String) throws {
        let removed = try db.write { connection in try connection.run("DELETE FROM customers WHERE id = ?", id) }
        guard removed == 1 else { throw CRMError.customerNotFound(id) }
    }

    /// Records an event about the directory in a transaction of its own (an import's, once it has ended).
    func record(_ type: String, data: [UInt8]) throws {
        try db.write { connection in try events.record(connection, type, data: data, audience: nil) }
    }

    /// The stored JSON of the customer with this email or phone (already normalised).
    func record(column: String, value: String) throws -> [UInt8]? {
        precondition(column == "email" || column == "phone", "lookup column must be email or phone")
        let sql =
            column == "email"
            ? "SELECT record FROM customers WHERE email = ?" : "SELECT record FROM customers WHERE phone = ?"
        return try db.read { connection in try connection.first(sql, [value]) { $0.bytes(0) } }
    }
}
