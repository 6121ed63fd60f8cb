import ConciergeModels

/// A customer upsert worked out as far as it can be without the database: the draft, and the new
/// customer it becomes if nobody owns its email or phone yet. An import prepares these on its reading
/// thread; its writer's thread encodes the record (`Customer.record`) as it inserts, which evens out
/// the two threads' work (the reading thread was the slower one with it: `Benchmarks/crm.sh`, BENCHMARKS.md
/// "CRM-lookup").
/// A class, so a batch hands them around without copying every field.
final class PreparedUpsert: Sendable {
    let draft: CustomerDraft
    let fresh: Customer

    /// - Parameters:
    ///   - now: the write's timestamp; an import gives one per batch.
    ///   - id: the new customer's id, if it is new; an import makes them with a buffered generator.
    init(_ draft: CustomerDraft, now: String = Timestamp.now(), id: String = Customer.newID()) {
        self.draft = draft
        fresh = draft.applied(to: nil, id: id, now: now)
    }
}
