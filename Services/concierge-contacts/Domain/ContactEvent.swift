import ConciergeJSON
import ConciergeModels

/// What the contacts service tells the outside of a change to a contact: the event's type, and what
/// its data adds to the contact as `GET /v1/contacts/{id}` shows it after the change.
enum ContactEvent: Equatable {
    case created
    /// A PATCH that changed something (also a workflow's, through the same route).
    case updated
    /// `sourceId` was merged into `targetId`; the data's contact is the survivor (the target).
    case merged(sourceID: String, targetID: String)
    case blocked
    case unblocked
    /// The contact's dedicated hero is now the one its data shows (`dedicatedHero`, possibly `null`);
    /// `previousDedicatedHero` is the one it had.
    case heroChanged(previous: DedicatedHero?)

    var type: String {
        switch self {
        case .created: "contact.created"
        case .updated: "contact.updated"
        case .merged: "contact.merged"
        case .blocked: "contact.blocked"
        case .unblocked: "contact.unblocked"
        case .heroChanged: "contact.hero_changed"
        }
    }

    /// Whether the data is the contact alone, byte for byte its JSON.
    var isContactAlone: Bool {
        switch self {
        case .created, .updated, .blocked, .unblocked: true
        case .merged, .heroChanged: false
        }
    }

    /// The event's data: the contact's JSON (`contactJSON`, as its `GET` answers it) with this event's
    /// members after the contact's own. The contact already shows its new `dedicatedHero`, so a hero
    /// change adds only the previous one (a second `dedicatedHero` would be a repeated key).
    func data(contactJSON: [UInt8]) -> [UInt8] {
        guard !isContactAlone else { return contactJSON }
        var writer = JSONWriter(capacity: contactJSON.count + 96)
        writer.beginObject()
        writer.members(of: contactJSON)
        switch self {
        case .merged(let sourceID, let targetID):
            writer.key("sourceId")
            writer.string(sourceID)
            writer.key("targetId")
            writer.string(targetID)
        case .heroChanged(let previous):
            writer.key("previousDedicatedHero")
            if let previous { writer.hero(previous) } else { writer.null() }
        case .created, .updated, .blocked, .unblocked:
            break
        }
        writer.endObject()
        return writer.bytes
    }
}
