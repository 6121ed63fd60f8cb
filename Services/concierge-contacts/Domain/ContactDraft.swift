import ConciergeModels
import Foundation

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
        name = ""
        emails = []
        phones = []
        handles = []
        tags = []
        attributes = [:]
        try setName(input.name ?? "")
        try setEmails(input.emails ?? [])
        try setPhones(input.phones ?? [])
        try setHandles(input.handles ?? [])
        tags = try Identity.normalizeTags(input.tags ?? [])
        let newAttributes = input.attributes ?? [:]
        try ContactLimits.checkCount(newAttributes.count, ContactLimits.attributes, field: "attributes")
        for (key, value) in newAttributes { try setAttribute(key, value) }
    }

    init(_ contact: Contact) {
        name = contact.name
        emails = contact.emails
        phones = contact.phones
        handles = contact.handles
        tags = contact.tags
        attributes = contact.attributes
    }

    /// Trimmed; at most `ContactLimits.nameLength` characters, no control characters.
    mutating func setName(_ raw: String) throws(ContactError) {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        try Identity.checkText(trimmed, field: "name")
        try ContactLimits.checkLength(trimmed, ContactLimits.nameLength, field: "name")
        name = trimmed
    }

    /// A contact is someone named or someone to reach: an empty one could never be found or merged
    /// by an identity, only pile up.
    func checkIdentifiable() throws(ContactError) {
        guard !name.isEmpty || !emails.isEmpty || !phones.isEmpty || !handles.isEmpty else {
            throw .invalid(field: "name", message: "A contact needs a name or at least one email, phone or handle.")
        }
    }

    /// 400 naming `attributes` when the contact holds more than `ContactLimits.attributes`.
    func checkAttributeCount() throws(ContactError) {
        try ContactLimits.checkCount(attributes.count, ContactLimits.attributes, field: "attributes")
    }

    mutating func setEmails(_ raw: [String]) throws(ContactError) {
        // Counted before the duplicate check, which compares each item with those kept before it.
        try ContactLimits.checkCount(raw.count, ContactLimits.identities, field: "emails")
        var result: [String] = []
        for (i, email) in raw.enumerated() {
            let normalized = try Identity.normalizeEmail(email, field: "emails[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        emails = result
    }

    mutating func setPhones(_ raw: [String]) throws(ContactError) {
        try ContactLimits.checkCount(raw.count, ContactLimits.identities, field: "phones")
        var result: [String] = []
        for (i, phone) in raw.enumerated() {
            let normalized = try Identity.normalizePhone(phone, field: "phones[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        phones = result
    }

    mutating func setHandles(_ raw: [Handle]) throws(ContactError) {
        try ContactLimits.checkCount(raw.count, ContactLimits.identities, field: "handles")
        var result: [Handle] = []
        for (i, handle) in raw.enumerated() {
            let normalized = try Identity.normalizeHandle(handle, field: "handles[\(i)]")
            if !result.contains(normalized) { result.append(normalized) }
        }
        handles = result
    }

    mutating func setAttribute(_ key: String, _ value: String?) throws(ContactError) {
        let field = "attributes.\(key)"
        guard !key.isEmpty, !StoredText.exceeds(key, maxLength: ContactLimits.attributeKeyLength) else {
            throw .invalid(
                field: field, message: "Attribute names must be 1 to \(ContactLimits.attributeKeyLength) characters.")
        }
        try Identity.checkText(key, field: field)
        if let value {
            try Identity.checkText(value, field: field)
            guard value.utf8.count <= ContactLimits.attributeValueBytes else {
                throw .invalid(
                    field: field,
                    message: "\(field) must be at most \(ContactLimits.attributeValueBytes) bytes of UTF-8.")
            }
            attributes[key] = value
        } else {
            attributes[key] = nil
        }
    }

    /// Every identity as (kind, value, field name for a 409).
    var identities: [(kind: String, value: String, field: String)] {
        emails.enumerated().map { (IdentityKind.email, $0.element, "emails[\($0.offset)]") }
            + phones.enumerated().map { (IdentityKind.phone, $0.element, "phones[\($0.offset)]") }
            + handles.enumerated().map {
                (IdentityKind.handle($0.element.channel), $0.element.value, "handles[\($0.offset)]")
            }
    }
}
