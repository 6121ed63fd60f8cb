import ConciergeModels
import Testing

@testable import ContactsService

/// `ContactMerge`: what the surviving contact keeps when another is merged into it.
@Suite struct ContactMergeTests {
    static func contact(
        _ id: String, emails: [String] = [], phones: [String] = [], tags: [String] = [],
        attributes: [String: String] = [:],
        hero: DedicatedHero? = nil, mergedInto: String? = nil
    ) -> Contact {
        Contact(
            id: id, name: id.uppercased(), emails: emails, phones: phones, tags: tags, attributes: attributes,
            dedicatedHero: hero, mergedInto: mergedInto, createdAt: "2026-01-01T00:00:00.000Z",
            updatedAt: "2026-01-01T00:00:00.000Z")
    }

    @Test func theSurvivorGainsTheSourcesIdentitiesTagsAndMissingAttributes() throws {
        let target = Self.contact(
            "t", emails: ["ada@example.com"], phones: ["+4511111111"], tags: ["VIP"],
            attributes: ["tier": "gold", "city": "Aarhus"])
        let source = Self.contact(
            "s", emails: ["ada@example.com", "ada@work.example"], phones: ["+4522222222"], tags: ["vip", "billing"],
            attributes: ["tier": "silver", "language": "da"])
        let merge = try ContactMerge(target: target, source: source)
        #expect(merge.survivor.name == "T", "the target keeps its own name")
        #expect(
            merge.survivor.emails == ["ada@example.com", "ada@work.example"], "each address once, the target's first")
        #expect(merge.survivor.phones == ["+4511111111", "+4522222222"])
        #expect(merge.survivor.tags == ["VIP", "billing"], "tags compared without case; the target's spelling kept")
        #expect(
            merge.survivor.attributes == ["tier": "gold", "city": "Aarhus", "language": "da"], "the target's values win"
        )
    }

    @Test func theSourcesHeroIsTakenOnlyWhenTheTargetHasNone() throws {
        let agent = DedicatedHero(type: .agent, id: "grace")
        let inbox = DedicatedHero(type: .inbox, id: "vip")
        #expect(
            try ContactMerge(target: Self.contact("t"), source: Self.contact("s", hero: agent)).heroFromSource == agent)
        #expect(
            try ContactMerge(target: Self.contact("t", hero: inbox), source: Self.contact("s", hero: agent))
                .heroFromSource == nil)
        #expect(try ContactMerge(target: Self.contact("t"), source: Self.contact("s")).heroFromSource == nil)
    }

    @Test func aContactCannotBeMergedTwiceNorIntoItself() {
        #expect(throws: ContactError.alreadyMerged(id: "s")) {
            try ContactMerge(target: Self.contact("t"), source: Self.contact("s", mergedInto: "x"))
        }
        #expect(throws: ContactError.mergeIntoSelf) {
            try ContactMerge(target: Self.contact("t"), source: Self.contact("t"))
        }
    }
}

/// `HeroChange`: which changes of a dedicated hero hand open conversations over.
@Suite struct HeroChangeTests {
    static let ada = DedicatedHero(type: .agent, id: "ada")
    static let vip = DedicatedHero(type: .inbox, id: "vip")

    @Test func replacingOneHeroByAnotherIsAnnounced() {
        #expect(
            HeroChange.replacement(contactID: "k", from: Self.ada, to: Self.vip)
                == HeroReplaced(contactId: "k", previous: Self.ada, hero: Self.vip))
    }

    @Test func aFirstHeroClearingItOrTheSameHeroMovesNothing() {
        #expect(HeroChange.replacement(contactID: "k", from: nil, to: Self.ada) == nil)
        #expect(HeroChange.replacement(contactID: "k", from: Self.ada, to: nil) == nil)
        #expect(HeroChange.replacement(contactID: "k", from: Self.ada, to: Self.ada) == nil)
    }
}
