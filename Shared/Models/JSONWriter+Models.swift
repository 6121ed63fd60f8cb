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
