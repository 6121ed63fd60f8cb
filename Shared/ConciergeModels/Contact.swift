/// A channel a conversation arrives on.
public enum Channel: String, Codable, Sendable, CaseIterable {
    case email, messaging, voice, voicemail
}

/// A handle on a messaging channel (e.g. a chat user id).
public struct Handle: Codable, Sendable, Equatable, Hashable {
    public var channel: String
    public var value: String
    public init(channel: String, value: String) {
        self.channel = channel
        self.value = value
    }
}

/// A contact's dedicated agent or hero team inbox.
public struct DedicatedHero: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case agent, inbox }
    public var type: Kind
    public var id: String
    public init(type: Kind, id: String) {
        self.type = type
        self.id = id
    }
}

/// A customer as the contacts service knows them (SPEC §3); each email, phone and handle belongs to at most
/// one live contact.
public struct Contact: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var emails: [String]
    public var phones: [String]
    public var handles: [Handle]
    public var tags: [String]
    public var attributes: [String: String]
    public var blocked: Bool
    @Nullable public var dedicatedHero: DedicatedHero?
    @Nullable public var mergedInto: String?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, name: String, emails: [String] = [], phones: [String] = [], handles: [Handle] = [],
        tags: [String] = [], attributes: [String: String] = [:], blocked: Bool = false,
        dedicatedHero: DedicatedHero? = nil, mergedInto: String? = nil, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.name = name
        self.emails = emails
        self.phones = phones
        self.handles = handles
        self.tags = tags
        self.attributes = attributes
        self.blocked = blocked
        self.dedicatedHero = dedicatedHero
        self.mergedInto = mergedInto
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// `POST /v1/contacts` body.
public struct NewContact: Codable, Sendable, Equatable {
    public var name: String?
    public var emails: [String]?
    public var phones: [String]?
    public var handles: [Handle]?
    public var tags: [String]?
    public var attributes: [String: String]?
    public init(
        name: String? = nil, emails: [String]? = nil, phones: [String]? = nil, handles: [Handle]? = nil,
        tags: [String]? = nil, attributes: [String: String]? = nil
    ) {
        self.name = name
        self.emails = emails
        self.phones = phones
        self.handles = handles
        self.tags = tags
        self.attributes = attributes
    }
}

/// `POST /v1/contacts/resolve` body.
public struct ResolveRequest: Codable, Sendable, Equatable {
    public var channel: Channel
    public var address: String
    public var name: String?
    public init(channel: Channel, address: String, name: String? = nil) {
        self.channel = channel
        self.address = address
        self.name = name
    }
}

/// `POST /v1/contacts/resolve` answer.
public struct ResolveResult: Codable, Sendable, Equatable {
    public var contact: Contact
    public var created: Bool
    public init(contact: Contact, created: Bool) {
        self.contact = contact
        self.created = created
    }
}

/// `POST /v1/contacts/{id}/merge` body.
public struct MergeRequest: Codable, Sendable, Equatable {
    public var sourceId: String
    public init(sourceId: String) { self.sourceId = sourceId }
}

/// Every list answer (SPEC §2): `items` in a stable order, newest first unless said, and `nextCursor`,
/// `null` on the last page.
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    @Nullable public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Item: Equatable {}

extension Page {
    /// A page from up to `limit + 1` rows fetched in order with their position (`seq`): the extra
    /// row only tells that more follow, and the last kept row's position is the next cursor.
    public init(rows: [(Item, Int64)], limit: Int) {
        let kept = rows.prefix(limit)
        self.init(items: kept.map(\.0), nextCursor: rows.count > limit ? kept.last.map { String($0.1) } : nil)
    }
}
