import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Outbox
import ServiceRuntime
import Storage

/// Every line of the contacts service's SQL. Writes run in one transaction on the single writer,
/// so "look up, then insert" is atomic: concurrent resolves of one address make one contact. Every
/// change records its event (`ContactEvent`) in its own transaction; a refused or no-op change none.
struct ContactStore: Sendable {
    let db: Database
    let events: EventLog

    static let columns =
        "seq, id, name, emails, phones, handles, tags, attributes, blocked, hero_type, hero_id, merged_into, created_at, updated_at"

    // MARK: - Reads

    /// The contact, or for a merged one the contact it now lives in.
    func get(_ id: String) throws -> Contact {
        try db.read { connection in try Self.live(connection, id: id) }
    }

    /// Finds the live contact owning an identity, without taking the write lock.
    func owner(kind: String, value: String) throws -> Contact? {
        try db.read { connection in try Self.owner(connection, kind: kind, value: value) }
    }

    struct Filters {
        var email: String?
        var phone: String?
        var tag: String?
        var q: String?
        var heroAgentID: String?
        var heroInboxID: String?
    }

    /// Text as `q` compares it: lower-cased by Unicode rules (`Ørsted` → `ørsted`), in Swift on both
    /// sides, as SQLite's `lower()` and `LIKE` fold only ASCII.
    static func searchFolded(_ text: String) -> String { text.lowercased() }

    /// Live contacts matching every given filter, newest first, paged by `seq`.
    func search(_ filters: Filters, limit: Int, before cursor: Int64?) throws -> Page<Contact> {
        var conditions = SQLConditions("merged_into IS NULL")
        if let email = filters.email {
            conditions.add("seq IN (SELECT contact_seq FROM identities WHERE kind = 'email' AND value = ?)", email)
        }
        if let phone = filters.phone {
            conditions.add("seq IN (SELECT contact_seq FROM identities WHERE kind = 'phone' AND value = ?)", phone)
        }
        if let tag = filters.tag {
            conditions.add("seq IN (SELECT contact_seq FROM contact_tags WHERE tag = ?)", tag.lowercased())
        }
        if let q = filters.q, !q.isEmpty {
            // Emails and phones are searched in their stored lists, so the text is escaped as they are.
            let pattern = "%" + Self.escapeLike(ListCoding.escape(Self.searchFolded(q))) + "%"
            conditions.add(
                "(name_folded LIKE ? ESCAPE '\\' OR emails LIKE ? ESCAPE '\\' OR phones LIKE ? ESCAPE '\\')", pattern,
                pattern,
                pattern)
        }
        if let agent = filters.heroAgentID { conditions.add("hero_type = 'agent' AND hero_id = ?", agent) }
        if let inbox = filters.heroInboxID { conditions.add("hero_type = 'inbox' AND hero_id = ?", inbox) }
        if let cursor { conditions.add("seq < ?", cursor) }
        let sql = "SELECT \(Self.columns) FROM contacts WHERE \(conditions.sql) ORDER BY seq DESC LIMIT ?"
        let values = conditions.values + [limit + 1]
        let rows = try db.read { connection in try connection.query(sql, values) { (Self.decode($0), $0.int64(0)) } }
        return Page(rows: rows, limit: limit)
    }

    // MARK: - Writes

    func insert(_ draft: ContactDraft) throws -> WrittenContact {
        try write { tx in try tx.record(.created, try Self.announce(tx, try Self.insert(tx, draft))) }
    }

    /// What resolve did: found the contact owning the identity (a read: nothing encoded yet), or created
    /// one (encoded once, for its event and the answer).
    enum Resolution {
        case found(Contact)
        case created(WrittenContact)
    }

    /// Finds the contact that owns this identity or creates it.
    func resolve(kind: String, value: String, name: String?) throws -> Resolution {
        if let existing = try owner(kind: kind, value: value) { return .found(existing) }
        return try write { tx in
            let connection = tx.connection
            if let existing = try Self.owner(connection, kind: kind, value: value) { return .found(existing) }
            var draft = try ContactDraft(NewContact(name: name))
            switch kind {
            case IdentityKind.email: draft.emails = [value]
            case IdentityKind.phone: draft.phones = [value]
            default: draft.handles = [Handle(channel: String(kind.dropFirst("handle:".count)), value: value)]
            }
            return .created(try tx.record(.created, try Self.insert(tx, draft)))
        }
    }

    func update(_ id: String, patch: JSONValue) throws -> WrittenContact {
        try write { tx in
            let connection = tx.connection
            let current = try Self.live(connection, id: id)
            var draft = ContactDraft(current)
            try ContactPatchInput.apply(patch, to: &draft)
            guard draft != ContactDraft(current) else { return WrittenContact(current) }
            guard let seq = try Self.seq(connection, id: current.id) else { throw ContactError.notFound(id: id) }
            try Self.claimIdentities(tx, draft, seq: seq)
            try Self.writeFields(tx, draft, seq: seq)
            return try tx.record(.updated, try Self.announce(tx, try Self.live(connection, id: current.id)))
        }
    }

    func setBlocked(_ id: String, _ blocked: Bool) throws -> WrittenContact {
        try write { tx in
            let connection = tx.connection
            let contact = try Self.live(connection, id: id)
            guard contact.blocked != blocked else { return WrittenContact(contact) }
            try connection.run(
                "UPDATE contacts SET blocked = ?, updated_at = ? WHERE id = ?", blocked, Timestamp.now(), contact.id)
            return try tx.record(blocked ? .blocked : .unblocked, try Self.live(connection, id: contact.id))
        }
    }

    /// Sets or clears the hero. Replacing an existing hero with another tells the conversations
    /// service (outbox) to hand the contact's open conversations to the new hero.
    func setHero(_ id: String, _ hero: DedicatedHero?) throws -> WrittenContact {
        try write { tx in
            let connection = tx.connection
            let contact = try Self.live(connection, id: id)
            guard contact.dedicatedHero != hero else { return WrittenContact(contact) }
            try connection.run(
                "UPDATE contacts SET hero_type = ?, hero_id = ?, updated_at = ? WHERE id = ?",
                hero?.type.rawValue, hero?.id, Timestamp.now(), contact.id)
            if let replaced = HeroChange.replacement(contactID: contact.id, from: contact.dedicatedHero, to: hero) {
                try tx.enqueue(.heroReplacement(replaced))
            }
            return try tx.record(
                .heroChanged(previous: contact.dedicatedHero), try Self.live(connection, id: contact.id))
        }
    }

    /// Merges the source into the target (`ContactMerge` decides what the survivor keeps), marks the
    /// source merged, and tells the conversations service.
    func merge(targetID: String, sourceID: String) throws -> WrittenContact {
        try write { tx in
            let connection = tx.connection
            let target = try Self.live(connection, id: targetID)
            guard let source = try Self.row(connection, id: sourceID) else { throw ContactError.notFound(id: sourceID) }
            let merge = try ContactMerge(target: target, source: source)
            guard let targetSeq = try Self.seq(connection, id: target.id),
                let sourceSeq = try Self.seq(connection, id: source.id)
            else { throw ContactError.notFound(id: targetID) }
            let now = Timestamp.now()
            try connection.run("DELETE FROM identities WHERE contact_seq = ?", sourceSeq)
            try connection.run("DELETE FROM contact_tags WHERE contact_seq = ?", sourceSeq)
            try connection.run(
                """
                UPDATE contacts SET merged_into = ?, emails = '', phones = '', handles = '', hero_type = NULL,
                    hero_id = NULL, updated_at = ? WHERE seq = ?
                """, target.id, now, sourceSeq)
            try Self.claimIdentities(tx, merge.survivor, seq: targetSeq)
            try Self.writeFields(tx, merge.survivor, seq: targetSeq)
            if let hero = merge.heroFromSource {
                try connection.run(
                    "UPDATE contacts SET hero_type = ?, hero_id = ? WHERE seq = ?", hero.type.rawValue, hero.id,
                    targetSeq)
            }
            // Contacts merged into the source earlier now point at the survivor directly.
            try connection.run("UPDATE contacts SET merged_into = ? WHERE merged_into = ?", target.id, source.id)
            try tx.enqueue(.contactMerge(ContactMerged(sourceId: source.id, targetId: target.id)))
            return try tx.record(
                .merged(sourceID: source.id, targetID: target.id),
                try Self.announce(tx, try Self.live(connection, id: target.id)))
        }
    }

    /// Routing deactivated an agent: contacts whose hero it was get its hero inbox, each with its
    /// `contact.hero_changed`. Applied once per entry id.
    func handOver(_ handover: AgentHeroHandover, entryID: String?) throws -> Int {
        try write { tx in
            let connection = tx.connection
            if let entryID, try !Idempotency.firstDelivery(connection, id: entryID) { return 0 }
            let previous = DedicatedHero(type: .agent, id: handover.agentId)
            let heroCustomers = try connection.query(
                "SELECT seq, id FROM contacts WHERE hero_type = 'agent' AND hero_id = ? AND merged_into IS NULL ORDER BY seq",
                [handover.agentId]
            ) { (seq: $0.int64(0), id: $0.string(1)) }
            let now = Timestamp.now()
            for contact in heroCustomers {
                try connection.run(
                    "UPDATE contacts SET hero_type = 'inbox', hero_id = ?, updated_at = ? WHERE seq = ?",
                    handover.heroInboxId, now, contact.seq)
                try tx.record(.heroChanged(previous: previous), try Self.live(connection, id: contact.id))
            }
            return heroCustomers.count
        }
    }

    // MARK: - Helpers inside a transaction

    /// Sends the conversations service the contact's new emails and tags (smart-folder rules),
    /// through the outbox. Contacts made by resolve reach it with the inbound message instead.
    @discardableResult
    private static func announce(_ tx: ContactTransaction, _ contact: Contact) throws -> Contact {
        try tx.enqueue(.contactSnapshot(contact))
        return contact
    }

    private static func insert(_ tx: ContactTransaction, _ draft: ContactDraft) throws -> Contact {
        let connection = tx.connection
        let now = Timestamp.now()
        let id = Identifier.make()
        try connection.run("INSERT INTO contacts (id, name, created_at, updated_at) VALUES (?, '', ?, ?)", id, now, now)
        let seq = connection.lastInsertRowID
        try claimIdentities(tx, draft, seq: seq)
        try writeFields(tx, draft, seq: seq)
        return try live(connection, id: id)
    }

    /// Replaces the contact's identity rows; an identity held by another live contact is a 409.
    private static func claimIdentities(_ tx: ContactTransaction, _ draft: ContactDraft, seq: Int64) throws {
        let connection = tx.connection
        for identity in draft.identities {
            let holder = try connection.first(
                "SELECT c.id, c.seq FROM identities i JOIN contacts c ON c.seq = i.contact_seq WHERE i.kind = ? AND i.value = ?",
                [identity.kind, identity.value]
            ) { ($0.string(0), $0.int64(1)) }
            if let holder, holder.1 != seq {
                throw ContactError.identityTaken(field: identity.field, value: identity.value, ownerID: holder.0)
            }
        }
        try connection.run("DELETE FROM identities WHERE contact_seq = ?", seq)
        for identity in draft.identities {
            try connection.run(
                "INSERT INTO identities (kind, value, contact_seq) VALUES (?, ?, ?)", identity.kind, identity.value, seq
            )
        }
    }

    private static func writeFields(_ tx: ContactTransaction, _ draft: ContactDraft, seq: Int64) throws {
        let connection = tx.connection
        try connection.run(
            """
            UPDATE contacts SET name = ?, name_folded = ?, emails = ?, phones = ?, handles = ?, tags = ?, attributes = ?,
                updated_at = ?
            WHERE seq = ?
            """,
            draft.name, Self.searchFolded(draft.name), ListCoding.join(draft.emails), ListCoding.join(draft.phones),
            ListCoding.join(draft.handles.map { [$0.channel, $0.value] }), ListCoding.join(draft.tags),
            ListCoding.join(draft.attributes.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }), Timestamp.now(),
            seq)
        try connection.run("DELETE FROM contact_tags WHERE contact_seq = ?", seq)
        for tag in Set(draft.tags.map { $0.lowercased() }) {
            try connection.run("INSERT INTO contact_tags (tag, contact_seq) VALUES (?, ?)", tag, seq)
        }
    }

    private static func owner(_ connection: Connection, kind: String, value: String) throws -> Contact? {
        try connection.first(
            "SELECT \(prefixed) FROM identities i JOIN contacts c ON c.seq = i.contact_seq WHERE i.kind = ? AND i.value = ?",
            [kind, value], decode)
    }

    private static let prefixed = columns.split(separator: ",").map { "c." + $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: ", ")

    private static func row(_ connection: Connection, id: String) throws -> Contact? {
        try connection.first("SELECT \(columns) FROM contacts WHERE id = ?", [id], decode)
    }

    private static func seq(_ connection: Connection, id: String) throws -> Int64? {
        try connection.first("SELECT seq FROM contacts WHERE id = ?", [id]) { $0.int64(0) }
    }

    /// Follows `mergedInto` to the surviving contact (merges re-point chains, so one hop is usual).
    static func live(_ connection: Connection, id: String) throws -> Contact {
        var current = id
        for _ in 0..<8 {
            guard let contact = try row(connection, id: current) else { throw ContactError.notFound(id: id) }
            guard let next = contact.mergedInto else { return contact }
            current = next
        }
        throw ContactError.notFound(id: id)
    }

    static func decode(_ row: Row) -> Contact {
        let heroType = row.optionalString(9).flatMap(DedicatedHero.Kind.init(rawValue:))
        let hero = heroType.flatMap { type in row.optionalString(10).map { DedicatedHero(type: type, id: $0) } }
        var attributes: [String: String] = [:]
        for pair in ListCoding.split(row.string(7)) { attributes[pair[0]] = pair.count > 1 ? pair[1] : "" }
        return Contact(
            id: row.string(1), name: row.string(2),
            emails: ListCoding.split(row.string(3)).map { $0[0] },
            phones: ListCoding.split(row.string(4)).map { $0[0] },
            handles: ListCoding.split(row.string(5)).map { Handle(channel: $0[0], value: $0.count > 1 ? $0[1] : "") },
            tags: ListCoding.split(row.string(6)).map { $0[0] },
            attributes: attributes, blocked: row.bool(8), dedicatedHero: hero, mergedInto: row.optionalString(11),
            createdAt: row.string(12), updatedAt: row.string(13))
    }

    private static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
