import ConciergeModels

/// Random wire values for the fuzz tests of the JSON fast paths: text with every kind of character
/// JSON treats specially (quotes, backslashes, slashes, control bytes, line separators, a BOM,
/// multi-byte and combining scalars), optionals absent and present, empty and non-empty lists.
extension SplitMix64 {
    private static let pieces: [String] = [
        "a", "Z", "7", " ", "\"", "\\", "/", "</script>", "\u{0}", "\u{1}", "\u{8}", "\t", "\n", "\r\n", "\u{1F}",
        "\u{7F}",
        "é", "e\u{301}", "Æblegrød", "zł", "中", "\u{2028}", "\u{2029}", "\u{FEFF}", "👩‍💻", "🇩🇰", "null", "true", "{}", "[",
        ",", ":", "01a23474-46ab-7a1f-9bd2-32bc9564ceb4", "\\u0041", "%41", "+4512345678", "a@example.com",
    ]

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    public mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }

    public mutating func text(maxPieces: Int = 6) -> String {
        var text = ""
        for _ in 0..<below(maxPieces + 1) { text += Self.pieces[below(Self.pieces.count)] }
        return text
    }

    public mutating func optionalText() -> String? { chance(3) ? nil : text() }

    public mutating func texts(max: Int = 4) -> [String] { (0..<below(max + 1)).map { _ in text() } }

    public mutating func optionalTexts() -> [String]? { chance(3) ? nil : texts() }

    public mutating func textMap() -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<below(4) { map[text()] = text() }
        return map
    }

    public mutating func element<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// Mostly ordinary versions, sometimes at or past what a `Double` holds exactly, or negative.
    public mutating func version() -> Int {
        switch below(8) {
        case 0: element([Int.max, Int.min, 9_007_199_254_740_993, -1, 0])
        case 1: Int(truncatingIfNeeded: next())
        default: below(1_000_000)
        }
    }

    public mutating func hero() -> DedicatedHero? {
        chance(2) ? nil : DedicatedHero(type: element([.agent, .inbox]), id: text())
    }

    public mutating func contact() -> Contact {
        Contact(
            id: text(), name: text(), emails: texts(), phones: texts(),
            handles: (0..<below(3)).map { _ in Handle(channel: text(), value: text()) }, tags: texts(),
            attributes: textMap(),
            blocked: chance(2), dedicatedHero: hero(), mergedInto: optionalText(), createdAt: text(), updatedAt: text())
    }

    public mutating func routeContact() -> RouteContact {
        RouteContact(
            id: text(), name: optionalText(), emails: optionalTexts(), phones: optionalTexts(), tags: optionalTexts(),
            attributes: chance(3) ? nil : textMap(), dedicatedHero: hero())
    }

    public mutating func routeRequest() -> RouteRequest {
        RouteRequest(
            conversationId: text(), event: element([.new, .reopened, .message, .moved, .rerouted]),
            channel: element(Channel.allCases), inboxId: optionalText(), contact: routeContact(),
            message: RouteMessage(id: text(), body: optionalText()))
    }

    public mutating func replies() -> [Reply] { (0..<below(3)).map { _ in Reply(body: text()) } }

    public mutating func routeResult() -> RouteResult {
        RouteResult(
            conversationId: text(), routingState: element([.pending, .assigned, .queued, .awaitingCustomer, .none]),
            assigneeId: optionalText(), inboxId: optionalText(), queueId: optionalText(), replies: replies(),
            tags: texts(),
            trace: (0..<below(5)).map { _ in TraceStep(step: text(), outcome: text(maxPieces: 10)) },
            version: version(),
            decidedAt: text())
    }

    public mutating func resolveRequest() -> ResolveRequest {
        ResolveRequest(channel: element(Channel.allCases), address: text(), name: optionalText())
    }

    public mutating func inboundRequest() -> InboundRequest {
        InboundRequest(
            channel: element(Channel.allCases), from: text(), name: optionalText(), subject: optionalText(),
            body: text(),
            conversationId: optionalText(), externalId: optionalText())
    }

    public mutating func inboundResult() -> InboundResult {
        InboundResult(
            conversationId: optionalText(), messageId: optionalText(), contactId: text(),
            status: chance(3) ? nil : element(ConversationStatus.allCases), inboxId: optionalText(),
            assigneeId: optionalText(),
            queueId: optionalText(),
            routingState: chance(3)
                ? nil : element([RoutingState.pending, .assigned, .queued, .awaitingCustomer, RoutingState.none]),
            spam: chance(2), dropped: chance(2), reason: optionalText(), replies: replies())
    }

    public mutating func conversation() -> Conversation {
        Conversation(
            id: text(), contactId: text(), channel: element(Channel.allCases), inboxId: optionalText(),
            assigneeId: optionalText(), queueId: optionalText(),
            routingState: element([RoutingState.pending, .assigned, .queued, .awaitingCustomer, RoutingState.none]),
            status: element(ConversationStatus.allCases), subject: optionalText(), tags: texts(), spam: chance(2),
            createdAt: text(), updatedAt: text(), closedAt: optionalText(), firstResponseAt: optionalText())
    }

    public mutating func message() -> Message {
        Message(
            id: text(), conversationId: text(), direction: element([.inbound, .outbound]),
            author: MessageAuthor(type: element([.contact, .agent, .automation]), id: optionalText()), body: text(),
            senderName: optionalText(), signature: optionalText(),
            delivery: chance(2)
                ? nil
                : MessageDelivery(
                    status: element(MessageDelivery.Status.allCases), externalId: optionalText(), error: optionalText(),
                    updatedAt: optionalText()),
            createdAt: text())
    }
}
