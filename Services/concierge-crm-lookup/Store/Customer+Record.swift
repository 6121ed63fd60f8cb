import ConciergeJSON
import ConciergeModels
import Foundation

/// A customer as stored: its JSON as answered, so a lookup copies bytes. Written and read without
/// `JSONEncoder`/`JSONDecoder`, which cost more than the insert itself during an import.
extension Customer {
    var record: [UInt8] {
        let members: KeyValuePairs<String, JSONValue> = [
            "id": .string(id), "email": email.map(JSONValue.string) ?? .null,
            "phone": phone.map(JSONValue.string) ?? .null,
            "customerType": .string(customerType), "loyaltyStatus": .string(loyaltyStatus),
            "accountManager": accountManager.map(JSONValue.string) ?? .null,
            "lifetimeValue": lifetimeValue.map(JSONValue.number) ?? .null, "attributes": .object(attributes),
            "createdAt": .string(createdAt), "updatedAt": .string(updatedAt),
        ]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(384)
        JSONValue.write(members: members, to: &bytes)
        return bytes
    }

    /// Reads a stored record; one of another shape goes to `JSONDecoder`, which names what is wrong.
    init(record: [UInt8]) throws {
        guard case .object(let fields)? = try? JSONParser.parse(record), let id = fields["id"]?.stringValue,
            let customerType = fields["customerType"]?.stringValue,
            let loyaltyStatus = fields["loyaltyStatus"]?.stringValue,
            let createdAt = fields["createdAt"]?.stringValue, let updatedAt = fields["updatedAt"]?.stringValue,
            let attributes = fields["attributes"]?.objectValue
        else {
            self = try JSONCoding.decode(Customer.self, from: record)
            return
        }
        let lifetimeValue: Double?
        if case .number(let value)? = fields["lifetimeValue"] { lifetimeValue = value } else { lifetimeValue = nil }
        self.init(
            id: id, email: fields["email"]?.stringValue, phone: fields["phone"]?.stringValue,
            customerType: customerType,
            loyaltyStatus: loyaltyStatus, accountManager: fields["accountManager"]?.stringValue,
            lifetimeValue: lifetimeValue,
            attributes: attributes, createdAt: createdAt, updatedAt: updatedAt)
    }

    /// A new id: a UUIDv7, so ids rise with time and a bulk import appends to the id index.
    static func newID(now: Date = Date()) -> String { Identifier.make(now: now) }

    /// A new id with random bits from `random` (an import's buffered generator).
    static func newID(using random: inout some RandomNumberGenerator) -> String { Identifier.make(using: &random) }
}
