import ConciergeModels

/// How large a contact may grow, checked on create, PATCH, resolve and merge — before, nothing bounded
/// it but the 1 MiB body, and one request could store 10,000 tags. Lengths count Unicode scalars, as
/// JSON Schema's `maxLength` does; an attribute value is bounded in UTF-8 bytes (4 KiB), so 200 full
/// attributes are the largest part of a contact (about 800 KiB; ordinary contacts are a few hundred bytes).
enum ContactLimits {
    static let nameLength = 200
    static let identities = 50
    static let tags = 100
    static let tagLength = 100
    static let attributes = 200
    static let attributeKeyLength = 100
    static let attributeValueBytes = 4096
    static let handleChannelLength = 50
    static let handleValueLength = 200
    static let heroIDLength = 200

    /// 400 naming `field` when a list in a request holds more than `limit` items.
    static func checkCount(_ count: Int, _ limit: Int, field: String) throws(ContactError) {
        guard count <= limit else {
            throw .invalid(field: field, message: "\(field) may hold at most \(limit) items; got \(count).")
        }
    }

    /// 400 naming `field` when `text` is longer than `limit` characters.
    static func checkLength(_ text: String, _ limit: Int, field: String) throws(ContactError) {
        guard !StoredText.exceeds(text, maxLength: limit) else {
            throw .invalid(field: field, message: "\(field) must be at most \(limit) characters.")
        }
    }

    /// The survivor of a merge stays within the limits, or the merge is refused whole (422: each
    /// contact is valid on its own; their union is not), never cut short.
    static func checkMerged(_ draft: ContactDraft) throws(ContactError) {
        let counts = [
            ("emails", draft.emails.count, identities), ("phones", draft.phones.count, identities),
            ("handles", draft.handles.count, identities), ("tags", draft.tags.count, tags),
            ("attributes", draft.attributes.count, attributes),
        ]
        for (field, count, limit) in counts where count > limit {
            throw .mergeTooLarge(field: field, count: count, limit: limit)
        }
    }
}
