import ConciergeJSON

/// The wire types that `JSONCoding.decode` reads straight from the parsed tree (`JSONReadable`).
extension RouteRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            conversationId: try json.string("conversationId"), event: try json.value("event"),
            channel: try json.value("channel"), inboxId: try json.optionalString("inboxId"),
            contact: try json.object("contact"), message: try json.object("message"))
    }
}

extension RouteContact: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            id: try json.string("id"), name: try json.optionalString("name"),
            emails: try json.optionalStrings("emails"),
            phones: try json.optionalStrings("phones"), tags: try json.optionalStrings("tags"),
            attributes: try json.optionalStringMap("attributes"),
            dedicatedHero: try json.optionalObject("dedicatedHero"))
    }
}

extension RouteMessage: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(id: try json.string("id"), body: try json.optionalString("body"))
    }
}

extension DedicatedHero: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(type: try json.value("type"), id: try json.string("id"))
    }
}

extension RouteResult: JSONReadable {
    /// As `init(from:)`: replies, tags and trace default to empty, `decidedAt` to "".
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            conversationId: try json.string("conversationId"), routingState: try json.value("routingState"),
            assigneeId: try json.optionalString("assigneeId"), inboxId: try json.optionalString("inboxId"),
            queueId: try json.optionalString("queueId"), replies: try json.optionalObjects("replies") ?? [],
            tags: try json.optionalStrings("tags") ?? [], trace: try json.optionalObjects("trace") ?? [],
            version: try json.int("version"), decidedAt: try json.optionalString("decidedAt") ?? "")
    }
}

extension TraceStep: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(step: try json.string("step"), outcome: try json.string("outcome"))
    }
}

extension Reply: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(body: try json.string("body"))
    }
}

extension ResolveRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            channel: try json.value("channel"), address: try json.string("address"),
            name: try json.optionalString("name"))
    }
}

extension ResolveResult: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(contact: try json.object("contact"), created: try json.bool("created"))
    }
}

extension Contact: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            id: try json.string("id"), name: try json.string("name"), emails: try json.strings("emails"),
            phones: try json.strings("phones"), handles: try json.objects("handles"), tags: try json.strings("tags"),
            attributes: try json.stringMap("attributes"), blocked: try json.bool("blocked"),
            dedicatedHero: try json.optionalObject("dedicatedHero"), mergedInto: try json.optionalString("mergedInto"),
            createdAt: try json.string("createdAt"), updatedAt: try json.string("updatedAt"))
    }
}

extension Handle: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(channel: try json.string("channel"), value: try json.string("value"))
    }
}

extension InboundRequest: JSONReadable {
    public init(reading json: JSONObjectReader) throws(JSONMismatch) {
        self.init(
            channel: try json.value("channel"), from: try json.string("from"), name: try json.optionalString("name"),
            subject: try json.optionalString("subject"), body: try json.string("body"),
            conversationId: try json.optionalString("conversationId"), externalId: try json.optionalString("externalId")
        )
    }
}
