import ConciergeJSON

/// Pieces of the wire types that several of them write.
extension JSONWriter {
    /// `{"type": …, "id": …}`.
    public mutating func hero(_ hero: DedicatedHero) {
        beginObject()
        key("type")
        string(hero.type.rawValue)
        key("id")
        string(hero.id)
        endObject()
    }

    /// `[{"body": …}]`, as `[Reply]` encodes.
    public mutating func replies(_ replies: [Reply]) {
        beginArray()
        for reply in replies {
            beginObject()
            key("body")
            string(reply.body)
            endObject()
        }
        endArray()
    }
}

/// The wire types written straight to bytes (`JSONWritable`).
extension Contact: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.key("name")
        writer.string(name)
        writer.key("emails")
        writer.strings(emails)
        writer.key("phones")
        writer.strings(phones)
        writer.key("handles")
        writer.beginArray()
        for handle in handles {
            writer.beginObject()
            writer.key("channel")
            writer.string(handle.channel)
            writer.key("value")
            writer.string(handle.value)
            writer.endObject()
        }
        writer.endArray()
        writer.key("tags")
        writer.strings(tags)
        writer.key("attributes")
        writer.object(attributes)
        writer.key("blocked")
        writer.bool(blocked)
        writer.key("dedicatedHero")
        if let hero = dedicatedHero {
            writer.hero(hero)
        } else {
            writer.null()
        }
        writer.key("mergedInto")
        writer.string(mergedInto)
        writer.key("createdAt")
        writer.string(createdAt)
        writer.key("updatedAt")
        writer.string(updatedAt)
        writer.endObject()
    }
}

extension ResolveResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("contact")
        writer.value(contact)
        writer.key("created")
        writer.bool(created)
        writer.endObject()
    }
}

extension Page: JSONWritable where Item: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("items")
        writer.beginArray()
        for item in items { writer.value(item) }
        writer.endArray()
        writer.key("nextCursor")
        writer.string(nextCursor)
        writer.endObject()
    }
}

extension RouteResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("conversationId")
        writer.string(conversationId)
        writer.key("routingState")
        writer.string(routingState.rawValue)
        writer.key("assigneeId")
        writer.string(assigneeId)
        writer.key("inboxId")
        writer.string(inboxId)
        writer.key("queueId")
        writer.string(queueId)
        writer.key("replies")
        writer.replies(replies)
        writer.key("tags")
        writer.strings(tags)
        writer.key("trace")
        writer.beginArray()
        for step in trace {
            writer.beginObject()
            writer.key("step")
            writer.string(step.step)
            writer.key("outcome")
            writer.string(step.outcome)
            writer.endObject()
        }
        writer.endArray()
        writer.key("version")
        writer.int(version)
        writer.key("decidedAt")
        writer.string(decidedAt)
        writer.endObject()
    }
}

extension Conversation: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writeMembers(to: &writer)
        writer.endObject()
    }

    /// The members without the braces, for an object that adds its own (an event's data).
    public func writeMembers(to writer: inout JSONWriter) {
        writer.key("id")
        writer.string(id)
        writer.key("contactId")
        writer.string(contactId)
        writer.key("channel")
        writer.string(channel.rawValue)
        writer.key("inboxId")
        writer.string(inboxId)
        writer.key("assigneeId")
        writer.string(assigneeId)
        writer.key("queueId")
        writer.string(queueId)
        writer.key("routingState")
        writer.string(routingState.rawValue)
        writer.key("status")
        writer.string(status.rawValue)
        writer.key("subject")
        writer.string(subject)
        writer.key("tags")
        writer.strings(tags)
        writer.key("spam")
        writer.bool(spam)
        writer.key("createdAt")
        writer.string(createdAt)
        writer.key("updatedAt")
        writer.string(updatedAt)
        writer.key("closedAt")
        writer.string(closedAt)
        writer.key("firstResponseAt")
        writer.string(firstResponseAt)
    }
}

extension Message: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writeMembers(to: &writer)
        writer.endObject()
    }

    /// The members without the braces, for an object that adds its own (an event's data).
    public func writeMembers(to writer: inout JSONWriter) {
        writer.key("id")
        writer.string(id)
        writer.key("conversationId")
        writer.string(conversationId)
        writer.key("direction")
        writer.string(direction.rawValue)
        writer.key("author")
        writer.beginObject()
        writer.key("type")
        writer.string(author.type.rawValue)
        writer.key("id")
        writer.string(author.id)
        writer.endObject()
        writer.key("body")
        writer.string(body)
        writer.string("senderName", ifPresent: senderName)
        writer.string("signature", ifPresent: signature)
        if let delivery {
            writer.key("delivery")
            writer.value(delivery)
        }
        writer.key("createdAt")
        writer.string(createdAt)
    }
}

extension MessageDelivery: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("status")
        writer.string(status.rawValue)
        writer.string("externalId", ifPresent: externalId)
        writer.string("error", ifPresent: error)
        writer.string("updatedAt", ifPresent: updatedAt)
        writer.endObject()
    }
}
