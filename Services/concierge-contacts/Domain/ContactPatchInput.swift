import ConciergeJSON
import ConciergeModels
import Foundation

/// Applies a JSON merge patch (RFC 7396) to a contact's fields (SPEC §3 PATCH): `name` replaced,
/// `attributes` merged with `null` removing a key, the lists replaced whole (`null` empties them).
enum ContactPatchInput {
    static func apply(_ patch: JSONValue, to draft: inout ContactDraft) throws(ContactError) {
        guard let fields = patch.objectValue else {
            throw .invalid(field: "", message: "The patch must be a JSON object.")
        }
        for (key, value) in fields {
            switch key {
            case "name":
                guard let name = value.stringValue else { throw wrongType("name", "a string", value) }
                try draft.setName(name)
            case "emails": try draft.setEmails(try strings(value, field: "emails"))
            case "phones": try draft.setPhones(try strings(value, field: "phones"))
            case "tags": draft.tags = try Identity.normalizeTags(try strings(value, field: "tags"))
            case "handles": try draft.setHandles(try handles(value))
            case "attributes":
                if value.isNull {
                    draft.attributes = [:]
                    continue
                }
                guard let entries = value.objectValue else { throw wrongType("attributes", "an object", value) }
                for (name, entry) in entries {
                    switch entry {
                    case .null: try draft.setAttribute(name, nil)
                    case .string(let text): try draft.setAttribute(name, text)
                    default: throw wrongType("attributes.\(name)", "a string or null", entry)
                    }
                }
            default:
                continue  // Unknown fields are ignored (SPEC §2), read-only ones too.
            }
        }
        // Checked on the result: a patch may add some attributes while it removes others. A contact stored
        // before the limit keeps its attributes through patches that leave them alone.
        if fields["attributes"] != nil { try draft.checkAttributeCount() }
        try draft.checkIdentifiable()
    }

    private static func strings(_ value: JSONValue, field: String) throws(ContactError) -> [String] {
        if value.isNull { return [] }
        guard let items = value.arrayValue else { throw wrongType(field, "an array of strings", value) }
        var result: [String] = []
        for (i, item) in items.enumerated() {
            guard let text = item.stringValue else { throw wrongType("\(field)[\(i)]", "a string", item) }
            result.append(text)
        }
        return result
    }

    private static func handles(_ value: JSONValue) throws(ContactError) -> [Handle] {
        if value.isNull { return [] }
        guard let items = value.arrayValue else { throw wrongType("handles", "an array of objects", value) }
        var result: [Handle] = []
        for (i, item) in items.enumerated() {
            guard let object = item.objectValue else { throw wrongType("handles[\(i)]", "an object", item) }
            guard let channel = object["channel"]?.stringValue else {
                throw wrongType("handles[\(i)].channel", "a string", object["channel"] ?? .null)
            }
            guard let handleValue = object["value"]?.stringValue else {
                throw wrongType("handles[\(i)].value", "a string", object["value"] ?? .null)
            }
            result.append(Handle(channel: channel, value: handleValue))
        }
        return result
    }

    private static func wrongType(_ field: String, _ expected: String, _ got: JSONValue) -> ContactError {
        .invalid(field: field, message: "\(field) must be \(expected), got \(got.typeName).")
    }
}
