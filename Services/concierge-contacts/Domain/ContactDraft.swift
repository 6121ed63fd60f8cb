import Foundation
import Models

/// A contact's editable fields after validation and normalisation.
struct ContactDraft: Equatable {
    var name: String
    var emails: [String]
    var phones: [String]
    var handles: [Handle]
    var tags: [String]
    var attributes: [String: String]

    /// Validates a create body: every identity normalised, duplicates within the body collapsed.
    init(_ input: NewContact) throws(ContactError) {
        name = (input.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        emails = []
        phones = []
        handles = []
        tags = []
        attributes = [:]
        try Identity.checkText(name, field: "name")
        try setEmails(input.emails ?? [])
        try setPhones(input.phones ?? [])
        try setHandles(input.handles ?? [])
        tags = try Identity.normalizeTags(input.tags ?? [])
        for (key, value) in input.attributes ?? [:] { try setAttribute(key, value) }
    }

    init(_ contact: Contact) {
        name = contact.name
        emails = contact.emails
        phones = contact.phones
        handles = contact.handles
        tags = contact.tags
        attributes = contact.attributes
    }

    mutating func setEmails(_ raw: [String]) throws(ContactError) {
        var result: [String] = []
        for (i, email) in raw.enumerated() {
            let normalized = try Identity.normalizeEmail(email, field: "emails[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        emails = result
    }

    mutating func setPhones(_ raw: [String]) throws(ContactError) {
        var result: [String] = []
        for (i, phone) in raw.enumerated() {
            let normalized = try Identity.normalizePhone(phone, field: "phones[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        phones = result
    }

    mutating func setHandles(_ raw: [Handle]) throws(ContactError) {
        var result: [Handle] = []
        for (i, handle) in raw.enumerated() {
            let normalized = try Identity.normalizeHandle(handle, field: "handles[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        handles = result
    }

    mutating func setAttribute(_ key: String, _ value: String?) throws(ContactError) {
        let field = "attributes.\(key)"
        guard !key.isEmpty, key.count <= 100 else {
            throw .invalid(field: field, message: "Attribute names must be 1 to 100 characters.")
        }
        try Identity.checkText(key, field: field)
        if let value {
            try Identity.checkText(value, field: field)
            attributes[key] = value
        } else {
            attributes[key] = nil
        }
    }

    /// Every identity as (kind, value, field name for a 409).
    var identities: [(kind: String, value: String, field: String)] {
        emails.enumerated().map { (IdentityKind.email, $0.element, "emails[\($0.offset)]") }
            + phones.enumerated().map { (IdentityKind.phone, $0.element, "phones[\($0.offset)]") }
            + handles.enumerated().map { (IdentityKind.handle($0.element.channel), $0.element.value, "handles[\($0.offset)]") }
    }
}
