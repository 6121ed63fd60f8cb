import Models

/// A customer upsert worked out as far as it can be without the database: the draft, and the new
/// customer (with its stored record) it becomes if nobody owns its email or phone yet. An import
/// prepares these on its reading thread, so the writer's thread only looks up, inserts and commits.
/// A class, so a batch hands them around without copying every field.
final class PreparedUpsert: Sendable {
    let draft: CustomerDraft
    let fresh: Customer
    let freshRecord: [UInt8]

    /// - Parameter now: the write's timestamp; an import gives one per batch.
    init(_ draft: CustomerDraft, now: String = Timestamp.now()) {
        self.draft = draft
        fresh = draft.applied(to: nil, id: Customer.newID(), now: now)
        freshRecord = fresh.record
    }
}
