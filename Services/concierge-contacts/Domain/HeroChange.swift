import ConciergeModels

/// Setting a contact's dedicated hero. Replacing one hero by another hands the contact's open
/// conversations to the new one (the conversations service is told); a first hero, or clearing it,
/// moves nothing already open — new messages simply route by the new setting.
enum HeroChange {
    /// The announcement a change calls for, if any.
    static func replacement(contactID: String, from previous: DedicatedHero?, to hero: DedicatedHero?) -> HeroReplaced?
    {
        guard let previous, let hero, previous != hero else { return nil }
        return HeroReplaced(contactId: contactID, previous: previous, hero: hero)
    }
}
