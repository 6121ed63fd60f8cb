import ConciergeModels

/// Merging one contact into another: the survivor (the target) keeps its fields and gains the
/// source's emails, phones and handles, its tags (case-insensitively once), the attributes it does
/// not have itself, and the source's dedicated hero if it has none. The source keeps nothing and
/// points at the survivor from then on. Pure: `ContactStore.merge` reads both, asks, and writes.
struct ContactMerge: Equatable {
    /// The survivor's fields after the merge.
    var survivor: ContactDraft
    /// The hero the survivor takes over from the source (`nil`: it keeps its own, or neither has one).
    var heroFromSource: DedicatedHero?

    /// - Throws: `alreadyMerged` when the source was merged before, `mergeIntoSelf` for one contact,
    ///   `mergeTooLarge` when the survivor would pass a `ContactLimits` bound.
    init(target: Contact, source: Contact) throws(ContactError) {
        guard source.mergedInto == nil else { throw .alreadyMerged(id: source.id) }
        guard source.id != target.id else { throw .mergeIntoSelf }
        var draft = ContactDraft(target)
        draft.emails += source.emails.filter { !draft.emails.contains($0) }
        draft.phones += source.phones.filter { !draft.phones.contains($0) }
        draft.handles += source.handles.filter { !draft.handles.contains($0) }
        // Both lists are stored, so normalised already: only the case-insensitive union is left to do.
        var seenTags = Set(draft.tags.map { $0.lowercased() })
        draft.tags += source.tags.filter { seenTags.insert($0.lowercased()).inserted }
        draft.attributes = target.attributes.merging(source.attributes) { mine, _ in mine }
        try ContactLimits.checkMerged(draft)
        survivor = draft
        heroFromSource = target.dedicatedHero == nil ? source.dedicatedHero : nil
    }
}
