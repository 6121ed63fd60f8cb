import Foundation
import Models
import Storage

/// Every line of the directory's SQL.
struct CustomerStore: Sendable {
    let db: Database

    /// Inserts or updates the customer owning the draft's email or phone; `created` tells which.
    func upsert(_ draft: CustomerDraft) throws -> (Customer, created: Bool) {
        try db.write { connection in try Self.upsert(connection, draft) }
    }

    static func upsert(_ connection: Connection, _ draft: CustomerDraft) throws -> (Customer, created: Bool) {
        let byEmail = try draft.email.flatMap { try find(connection, column: "email", value: $0) }
        let byPhone = try draft.phone.flatMap { try find(connection, column: "phone", value: $0) }
        if let byEmail, let byPhone, byEmail.id != byPhone.id {
            throw CRMError.identityClash(emailOwner: byEmail.id, phoneOwner: byPhone.id)
        }
        let existing = byEmail ?? byPhone
        let customer = draft.applied(to: existing, id: UUID().uuidString.lowercased(), now: Timestamp.now())
        let record = SQLValue.blob(try JSONCoding.encode(customer))
        if existing == nil {
            try connection.run(
                "INSERT INTO customers (id, email, phone, record) VALUES (?, ?, ?, ?)", customer.id, customer.email, customer.phone, record)
        } else {
            try connection.run(
                "UPDATE customers SET email = ?, phone = ?, record = ? WHERE id = ?", customer.email, customer.phone, record, customer.id)
        }
        return (customer, existing == nil)
    }

    func get(_ id: String) throws -> Customer {
        let record = try db.read { connection in
            try connection.first("SELECT record FROM customers WHERE id = ?", [id]) { $0.bytes(0) }
        }
        guard let record else { throw CRMError.customerNotFound(id) }
        return try JSONCoding.decode(Customer.self, from: record)
    }

    func delete(_ id: String) throws {
        let removed = try db.write { connection in try connection.run("DELETE FROM customers WHERE id = ?", id) }
        guard removed == 1 else { throw CRMError.customerNotFound(id) }
    }

    /// The stored JSON of the customer with this email or phone (already normalised).
    func record(column: String, value: String) throws -> [UInt8]? {
        precondition(column == "email" || column == "phone", "lookup column must be email or phone")
        return try db.read { connection in
            try connection.first("SELECT record FROM customers WHERE \(column) = ?", [value]) { $0.bytes(0) }
        }
    }

    private static func find(_ connection: Connection, column: String, value: String) throws -> Customer? {
        guard let record = try connection.first("SELECT record FROM customers WHERE \(column) = ?", [value], { $0.bytes(0) }) else {
            return nil
        }
        return try JSONCoding.decode(Customer.self, from: record)
    }
}
