import ConciergeModels

/// A contact's dedicated hero was replaced: its open conversations go to the new hero at once —
/// each assigned straight to an agent hero, or routed within an inbox hero. A pure decision: the
/// store writes the calls it returns to the outbox, and routing's answers are applied when they come.
enum HeroHandover {
    enum Call: Equatable {
        case assign(Conversation, agentID: String)
        case route(RouteRequest)
    }

    /// - Parameter deliveryID: the replacement's delivery id (its `Idempotency-Key`), which makes the
    ///   route requests' message ids the same on a redelivery.
    static func calls(for event: HeroReplaced, open: [Conversation], deliveryID: String?) -> [Call] {
        open.map { conversation in
            switch event.hero.type {
            case .agent:
                .assign(conversation, agentID: event.hero.id)
            case .inbox:
                .route(
                    RouteRequest(
                        conversationId: conversation.id, event: .moved, channel: conversation.channel,
                        inboxId: event.hero.id,
                        contact: RouteContact(id: event.contactId, dedicatedHero: event.hero),
                        message: RouteMessage(id: "hero-\(deliveryID ?? conversation.id)-\(conversation.id)")))
            }
        }
    }
}
