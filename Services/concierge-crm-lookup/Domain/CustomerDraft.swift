import ConciergeJSON
import ConciergeModels
import Foundation

/// A customer upsert after validation: email/phone normalised like contacts (SPEC §7).
struct CustomerDraft: Sendable, Equatable {
    var email: String?
    var phone: String?
    var customerType: String?
    var loyaltyStatus: String?
    var accountManager: String?
    var lifetimeValue: Double?
    var attributes: [String: JSONValue]?

    init(_ input: CustomerInput) throws(CRMError) {
        if let raw = input.email, !raw.isEmpty {
            guard let email = Addresses.email(raw) else {
                throw .invalid(field: "email", message: "email is not a valid email address.")
            }
            self.email = email
        }
        if let raw = input.phone, !raw.isEmpty {
            guard let phone = Addresses.e164(raw) else {
                throw .invalid(field: "phone", message: "phone must be an E.164 number starting with +.")
            }
            self.phone = phone
        }
        guard email != nil || phone != nil else {
            throw .invalid(field: "email", message: "A customer needs an email or a phone.")
        }
        customerType = try Self.text(input.customerType, field: "customerType")
        loyaltyStatus = try Self.text(input.loyaltyStatus, field: "loyaltyStatus")
        accountManager = try Self.text(input.accountManager, field: "accountManager")
        if let value = input.lifetimeValue {
            guard value.isFinite else {
                throw .invalid(field: "lifetimeValue", message: "lifetimeValue must be a finite number.")
            }
            lifetimeValue = value
        }
        if let attributes = input.attributes { try Self.checkAttributes(attributes) }
        attributes = input.attributes
    }

    private static func text(_ value: String?, field: String) throws(CRMError) -> String? {
        guard let value else { return nil }
        // Trimming and counting characters are slow and most values need neither (imports call this millions of times).
        let trimmed = hasOuterWhitespace(value) ? value.trimmingCharacters(in: .whitespacesAndNewlines) : value
        guard trimmed.utf8.count <= 200 || trimmed.count <= 200 else {
            throw .invalid(field: field, message: "\(field) must be at most 200 characters.")
        }
        try checkStored(trimmed, field: field)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func checkStored(_ text: String, field: String, lines: StoredText.Lines = .single) throws(CRMError) {
        guard StoredText.isAllowed(text, lines: lines) else {
            throw .invalid(field: field, message: StoredText.refusal(field: field, lines: lines))
        }
    }

    /// Attribute names and every string inside their values pass the same check as the other fields;
    /// values may span lines (a quoted CSV field may hold a line break).
    private static func checkAttributes(_ attributes: [String: JSONValue]) throws(CRMError) {
        for (key, value) in attributes {
            let field = "attributes.\(key)"
            try checkStored(key, field: field)
            try checkStrings(in: value, field: field)
        }
    }

    private static func checkStrings(in value: JSONValue, field: String) throws(CRMError) {
        switch value {
        case .string(let text): try checkStored(text, field: field, lines: .multiline)
        case .array(let items): for item in items { try checkStrings(in: item, field: field) }
        case .object(let members):
            for (key, member) in members {
                try checkStored(key, field: field)
                try checkStrings(in: member, field: field)
            }
        default: break
        }
    }

    private static func hasOuterWhitespace(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first, let last = value.unicodeScalars.last else { return false }
        return isWhitespace(first) || isWhitespace(last)
    }

    /// `CharacterSet.whitespacesAndNewlines`, asked only about non-ASCII (building the set costs more than the check).
    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar == " " || (0x09...0x0D).contains(scalar.value) : whitespace.contains(scalar)
    }

    private static let whitespace = CharacterSet.whitespacesAndNewlines

    /// This draft laid over an existing record (given fields replace, attributes merge).
    func applied(to existing: Customer?, id: String, now: String) -> Customer {
        var attributes = existing?.attributes ?? [:]
        if attributes.isEmpty, let given = self.attributes, !given.values.contains(where: \.isNull) {
            attributes = given  // nothing to merge into: taken whole, not rehashed key by key (imports notice)
        } else {
            for (key, value) in self.attributes ?? [:] { attributes[key] = value.isNull ? nil : value }
        }
        return Customer(
            id: existing?.id ?? id, email: email ?? existing?.email, phone: phone ?? existing?.phone,
            customerType: customerType ?? existing?.customerType ?? "regular",
            loyaltyStatus: loyaltyStatus ?? existing?.loyaltyStatus ?? "none",
            accountManager: accountManager ?? existing?.accountManager,
            lifetimeValue: lifetimeValue ?? existing?.lifetimeValue,
            attributes: attributes, createdAt: existing?.createdAt ?? now, updatedAt: now)
    }
}
