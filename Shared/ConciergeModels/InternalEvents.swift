/// Calls between services that change state. They travel through the durable outbox, carry the
/// entry id as `Idempotency-Key`, and are applied once by their receiver.

/// contacts → conversations, `POST /v1/internal/contact-merges`: the source's conversations are
/// listed under the target from now on.
public struct ContactMerged: Codable, Sendable, Equatable {
    public var sourceId: String
    public var targetId: String
    public init(sourceId: String, targetId: String) {
        self.sourceId = sourceId
        self.targetId = targetId
    }
}

/// contacts → conversations, `POST /v1/internal/hero-replacements`: a contact's existing hero was
/// replaced by another, so its open conversations go to the new hero now (SPEC §3 effect 2).
public struct HeroReplaced: Codable, Sendable, Equatable {
    public var contactId: String
    public var previous: DedicatedHero
    public var hero: DedicatedHero
    public init(contactId: String, previous: DedicatedHero, hero: DedicatedHero) {
        self.contactId = contactId
        self.previous = previous
        self.hero = hero
    }
}

/// routing → contacts, `POST /v1/internal/agent-deactivations`: every contact whose hero is the
/// agent gets the agent's hero inbox instead (SPEC §5 deactivation (a)). Open conversations are
/// re-routed by routing itself, so this changes no conversation.
public struct AgentHeroHandover: Codable, Sendable, Equatable {
    public var agentId: String
    public var heroInboxId: String
    public init(agentId: String, heroInboxId: String) {
        self.agentId = agentId
        self.heroInboxId = heroInboxId
    }
}

/// The answer of `POST /v1/internal/agent-deactivations`.
public struct HandoverResult: Codable, Sendable, Equatable {
    public var contactsUpdated: Int
    public init(contactsUpdated: Int) { self.contactsUpdated = contactsUpdated }
}
