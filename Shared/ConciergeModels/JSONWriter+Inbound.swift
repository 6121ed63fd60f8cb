import ConciergeJSON

/// Hand-written JSON for the inbound path's own bodies: the route request each inbound message
/// stores in the outbox, its resolve call to contacts, and the answer (measured: `JSONEncoder` was 8 %
/// of the conversations service's CPU per message; see BENCHMARKS.md). Same rules as the encoder: optional properties
/// are left out when nil, `@Nullable` ones written as null.
extension RouteRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("conversationId")
        writer.string(conversationId)
        writer.key("event")
        writer.string(event.rawValue)
        writer.key("channel")
        writer.string(channel.rawValue)
        writer.string("inboxId", ifPresent: inboxId)
        writer.key("contact")
        writer.value(contact)
        writer.key("message")
        writer.beginObject()
        writer.key("id")
        writer.string(message.id)
        writer.string("body", ifPresent: message.body)
        writer.endObject()
        writer.endObject()
    }
}

extension RouteContact: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.string("name", ifPresent: name)
        for (key, values) in [("emails", emails), ("phones", phones), ("tags", tags)] {
            if let values {
                writer.key(key)
                writer.strings(values)
            }
        }
        if let attributes {
            writer.key("attributes")
            writer.object(attributes)
        }
        if let dedicatedHero {
            writer.key("dedicatedHero")
            writer.hero(dedicatedHero)
        }
        writer.endObject()
    }
}

extension ResolveRequest: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("channel")
        writer.string(channel.rawValue)
        writer.key("address")
        writer.string(address)
        writer.string("name", ifPresent: name)
        writer.endObject()
    }
}

extension InboundResult: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("conversationId")
        writer.string(conversationId)
        writer.key("messageId")
        writer.string(messageId)
        writer.key("contactId")
        writer.string(contactId)
        writer.key("status")
        writer.string(status?.rawValue)
        writer.key("inboxId")
        writer.string(inboxId)
        writer.key("assigneeId")
        writer.string(assigneeId)
        writer.key("queueId")
        writer.string(queueId)
        writer.key("routingState")
        writer.string(routingState?.rawValue)
        writer.key("spam")
        writer.bool(spam)
        writer.key("dropped")
        writer.bool(dropped)
        writer.string("reason", ifPresent: reason)
        writer.key("replies")
        writer.replies(replies)
        writer.endObject()
    }
}
