import ConciergeModels
import Foundation

/// Normalisation and validation of the identities a contact owns (SPEC §3): emails trimmed, lower-cased
/// and checked; phones in E.164, a number without `+` refused.
enum Identity {
    static func normalizeEmail(_ raw: String, field: String) throws(ContactError) -> String {
        // Addresses.email refuses control characters itself, by StoredText's rule, so an email never
        // carries a storage separator.
        guard let email = Addresses.email(raw) else {
            throw .invalid(field: field, message: "\(field) is not a valid email address.")
        }
        return email
    }

    /// E.164 (`Addresses.e164`); a number without `+` gets its own message.
    static func normalizePhone(_ raw: String, field: String) throws(ContactError) -> String {
        guard let phone = e164(raw) else {
            let message =
                raw.trimmingCharacters(in: .whitespaces).hasPrefix("+")
                ? "\(field) is not a valid E.164 phone number."
                : "\(field) must be in international format starting with +."
            throw .invalid(field: field, message: message)
        }
        return phone
    }

    static func e164(_ raw: String) -> String? { Addresses.e164(raw) }

    static func normalizeHandle(_ handle: Handle, field: String) throws(ContactError) -> Handle {
        let channel = handle.channel.trimmingCharacters(in: .whitespaces).lowercased()
        let value = handle.value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !channel.isEmpty else {
            throw .invalid(field: "\(field).channel", message: "\(field).channel must not be empty.")
        }
        guard !value.isEmpty else {
            throw .invalid(field: "\(field).value", message: "\(field).value must not be empty.")
        }
        try checkText(channel, field: "\(field).channel")
        try checkText(value, field: "\(field).value")
        try ContactLimits.checkLength(channel, ContactLimits.handleChannelLength, field: "\(field).channel")
        try ContactLimits.checkLength(value, ContactLimits.handleValueLength, field: "\(field).value")
        return Handle(channel: channel, value: value)
    }

    /// Tags are trimmed, kept in their case, and de-duplicated case-insensitively.
    static func normalizeTags(_ tags: [String], field: String = "tags") throws(ContactError) -> [String] {
        try ContactLimits.checkCount(tags.count, ContactLimits.tags, field: field)
        var seen = Set<String>()
        var result: [String] = []
        for (i, raw) in tags.enumerated() {
            let tag = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !tag.isEmpty, !StoredText.exceeds(tag, maxLength: ContactLimits.tagLength) else {
                throw .invalid(
                    field: "\(field)[\(i)]",
                    message: "\(field)[\(i)] must be 1 to \(ContactLimits.tagLength) characters.")
            }
            try checkText(tag, field: "\(field)[\(i)]")
            if seen.insert(tag.lowercased()).inserted { result.append(tag) }
        }
        return result
    }

    /// Every string a contact stores passes `StoredText`'s one check (no control characters).
    static func checkText(_ text: String, field: String) throws(ContactError) {
        guard StoredText.isAllowed(text) else {
            throw .invalid(field: field, message: StoredText.refusal(field: field))
        }
    }

    /// Which identity an inbound address resolves to (SPEC §3 resolve): email → email; voice, voicemail →
    /// phone; messaging → phone when the address is E.164, else a handle on that channel.
    static func forAddress(channel: Channel, address: String) throws(ContactError) -> (kind: String, value: String) {
        switch channel {
        case .email:
            return ("email", try normalizeEmail(address, field: "address"))
        case .voice, .voicemail:
            return ("phone", try normalizePhone(address, field: "address"))
        case .messaging:
            if let phone = e164(address) { return ("phone", phone) }
            let value = address.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw .invalid(field: "address", message: "address must not be empty.") }
            try checkText(value, field: "address")
            try ContactLimits.checkLength(value, ContactLimits.handleValueLength, field: "address")
            return (IdentityKind.handle(channel.rawValue), value)
        }
    }
}

/// The `kind` column of the identities table.
enum IdentityKind {
    static let email = "email"
    static let phone = "phone"
    static func handle(_ channel: String) -> String { "handle:" + channel }
}
