import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The conversations service's events against real processes: what each change emits, who sees it,
/// the feed's paging, long poll and stream, and outbound delivery.
@Suite struct ConversationEventsTests {
    /// Every event of the conversations feed, walking the pages.
    private static func feed(_ client: ConversationsClient, after: Int64? = nil, types: [String]? = nil) async throws
        -> [EventEnvelope]
    {
        var items: [EventEnvelope] = []
        var cursor = after
        for _ in 0..<100 {
            let page = try await client.events(after: cursor, types: types, limit: 500)
            items += page.items
            guard let next = page.nextCursor else { break }
            cursor = Int64(next)
        }
        return items
    }

    /// `concierge_event_long_polls` of the conversations service now.
    private static func longPolls(_ cluster: TestCluster) async -> Double? {
        await metric("concierge_event_long_polls", cluster)
    }

    /// A label-less metric of the conversations service now.
    private static func metric(_ name: String, _ cluster: TestCluster) async -> Double? {
        guard let answer = try? await cluster.raw(.conversations).raw("GET", "/metrics") else { return nil }
        let text = String(decoding: answer.body, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    private static func port(_ cluster: TestCluster) throws -> Int {
        try #require(cluster.ports[.conversations])
    }

    @Test func aConversationsLifeIsToldInOrderOnceEachWithTheResourceAsData() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let result = try await kit.inbound(
                .email, from: "nina@example.com", body: "My order is late", subject: "Order 42", expecting: 201)
            let conversation = try await kit.routed(result)
            let id = try #require(result.conversationId)
            #expect(conversation.assigneeId == ada.id)

            let reply = try await kit.acting(as: ada).reply(id, body: "On its way!")
            _ = try await kit.conversations.tags(id, add: ["late"])
            // A change that fails emits nothing: the tag is already there (no change), and closing
            // twice is 409.
            _ = try await kit.conversations.tags(id, add: ["LATE"])
            _ = try await kit.conversations.close(id)
            await #expect(throws: ServiceError.self) { try await kit.conversations.close(id) }
            await #expect(throws: ServiceError.self) { try await kit.conversations.reply(id, body: "too late") }

            let events = try await Self.feed(kit.conversations)
            #expect(
                events.map(\.type) == [
                    "conversation.created", "message.created", "conversation.assigned", "message.created",
                    "conversation.status_changed", "conversation.tags_changed", "conversation.status_changed",
                ])
            // seq rises by one without gaps; every event names its service and has an id.
            let first = try #require(events.first?.seq)
            #expect(events.map(\.seq) == Array(first..<(first + Int64(events.count))))
            #expect(events.allSatisfy { $0.service == "conversations" && UUID(uuidString: $0.id) != nil })
            #expect(Set(events.map(\.id)).count == events.count)

            let created = events[0]
            #expect(created[data: "id"] == id)
            #expect(created[data: "status"] == "waiting")
            #expect(created[data: "subject"] == "Order 42")
            let inbound = events[1]
            #expect(inbound[data: "id"] == result.messageId)
            #expect(inbound[data: "direction"] == "inbound")
            #expect(inbound[data: "from"] == "nina@example.com")
            let assigned = events[2]
            #expect(assigned[data: "assigneeId"] == ada.id)
            #expect(assigned[data: "inboxId"] == support.id)
            #expect(assigned[data: "routingState"] == "assigned")
            #expect(assigned.data.objectValue?["previousAssigneeId"] == .null)
            // The data is the conversation as GET shows it, plus the previous values.
            let current = try await kit.conversations.conversation(id)
            var shown = try #require(try JSONParser.parse(JSONCoding.encode(current)).objectValue)
            shown["previousStatus"] = .string("open")
            #expect(events[6].data == .object(shown))

            let outbound = events[3]
            #expect(outbound[data: "id"] == reply.id)
            #expect(outbound[data: "direction"] == "outbound")
            #expect(outbound[data: "channel"] == "email")
            #expect(outbound[data: "to"] == "nina@example.com")
            #expect(outbound[data: "subject"] == "Re: Order 42")
            #expect(outbound[data: "inboxId"] == support.id)
            #expect(outbound[data: "senderName"] == "Acme Support")
            #expect(outbound[data: "signature"] == "-- Acme")
            #expect(outbound.data.objectValue?["delivery"] == .object(["status": .string("pending")]))
            #expect(events[4][data: "status"] == "open")
            #expect(events[4][data: "previousStatus"] == "waiting")
            #expect(events[5].data.objectValue?["previousTags"] == .array([]))
            #expect(events[5].data.objectValue?["tags"] == .array([.string("late")]))
            #expect(events[6][data: "status"] == "closed")
        }
    }

    @Test func feedPagesTypeFiltersAndAgentsSeeOnlyTheirOwnAndNeverSpam() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let bob = try await kit.agent("Bob", inboxes: [support.id])
            var ids: [String] = []
            for index in 0..<4 {
                let result = try await kit.inbound(.email, from: "c\(index)@example.com", expecting: 201)
                _ = try await kit.routed(result)
                ids.append(try #require(result.conversationId))
            }
            let all = try await Self.feed(kit.conversations)
            // Paging: two at a time walks the same events.
            var paged: [EventEnvelope] = []
            var after: Int64?
            while true {
                let page = try await kit.conversations.events(after: after, limit: 2)
                paged += page.items
                guard let next = page.nextCursor else { break }
                #expect(page.items.count == 2)
                after = Int64(next)
            }
            #expect(paged == all)
            let assigned = try await Self.feed(kit.conversations, types: ["conversation.assigned"])
            #expect(assigned.count == 4)
            #expect(Set(assigned.compactMap { $0[data: "id"] }) == Set(ids))
            let conversationsOnly = try await Self.feed(kit.conversations, types: ["conversation.*"])
            #expect(conversationsOnly.allSatisfy { $0.type.hasPrefix("conversation.") })
            #expect(conversationsOnly.count == 8)

            // Round robin: Ada and Bob have two each; each agent sees exactly its own assignments.
            let adaSees = try await Self.feed(kit.acting(as: ada))
            let bobSees = try await Self.feed(kit.acting(as: bob))
            let adaIDs = Set(assigned.filter { $0[data: "assigneeId"] == ada.id }.compactMap { $0[data: "id"] })
            #expect(adaSees.map(\.type) == ["conversation.assigned", "conversation.assigned"])
            #expect(Set(adaSees.compactMap { $0[data: "id"] }) == adaIDs)
            #expect(bobSees.count == 2)
            #expect(Set(bobSees.compactMap { $0[data: "id"] }).isDisjoint(with: adaIDs))

            // Spam: the agent's later events of that conversation are hidden; managers see them.
            let spamID = try #require(adaIDs.first)
            let marked = try await cluster.raw(.conversations, token: cluster.token(.teamManager))
                .raw("POST", "/v1/conversations/\(spamID)/spam")
            #expect(marked.status == 200)
            _ = try await kit.acting(as: ada).reply(try #require(adaIDs.subtracting([spamID]).first), body: "Hi")
            let adaAfter = try await Self.feed(kit.acting(as: ada))
            #expect(!adaAfter.contains { $0.type == "conversation.spam" })
            #expect(adaAfter.suffix(2).map(\.type) == ["message.created", "conversation.status_changed"])
            let managerSees = try await Self.feed(kit.manager, types: ["conversation.spam"])
            #expect(managerSees.map { $0[data: "id"] } == [spamID])
            #expect(managerSees.first?.data.objectValue?["spam"] == .bool(true))

            // Bad parameters are 400; a cursor from before the feed began is fine (nothing pruned).
            for query in ["?after=-1", "?after=x", "?wait=31", "?wait=abc", "?types=Bad.Type", "?limit=0"] {
                let answer = try await cluster.raw(.conversations, token: cluster.token(.administrator))
                    .raw("GET", "/v1/events" + query)
                #expect(answer.status == 400, "\(query)")
            }
        }
    }

    @Test func aLongPollIsAnsweredWhenAnEventCommitsAndAtTheEndOfItsWait() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let head = try await kit.conversations.events(limit: 500).items.last?.seq ?? 0
            let started = ContinuousClock.now
            async let waited = kit.conversations.events(after: head, types: ["conversation.created"], wait: 20)
            // Let the poll reach the server before the change.
            #expect(await eventually { await Self.longPolls(cluster) == 1 })
            let result = try await kit.inbound(.messaging, from: "+4512345678", expecting: 201)
            let page = try await waited
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(page.items.map(\.type) == ["conversation.created"])
            #expect(page.items.first?[data: "id"] == result.conversationId)

            let quiet = ContinuousClock.now
            let last = try #require(try await kit.conversations.events(limit: 500).items.last?.seq)
            let empty = try await kit.conversations.events(after: last, types: ["conversation.spam"], wait: 1)
            #expect(empty.items.isEmpty && empty.nextCursor == nil)
            #expect(ContinuousClock.now - quiet >= .milliseconds(950))
        }
    }

    @Test func anAgentsStreamGetsItsAssignmentsLiveAndResumesFromLastEventID() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk(capacity: PartialCounts(messaging: 10))
            let bob = try await kit.agent("Bob", inboxes: [support.id], availability: .offline)
            let port = try Self.port(cluster)
            let stream = try EventStreamReader(port: port, token: cluster.token(.agent, sub: ada.id))
            let bobStream = try EventStreamReader(port: port, token: cluster.token(.agent, sub: bob.id))
            let everything = try EventStreamReader(
                port: port, token: cluster.token(.administrator), query: "?types=conversation.assigned")
            #expect(
                await eventually { stream.head.hasPrefix("HTTP/1.1 200") && everything.head.hasPrefix("HTTP/1.1 200") })
            #expect(stream.head.contains("Content-Type: text/event-stream"))

            var conversationIDs: [String] = []
            for index in 0..<3 {
                let result = try await kit.inbound(.messaging, from: "+45111111\(index)", expecting: 201)
                _ = try await kit.routed(result)
                conversationIDs.append(try #require(result.conversationId))
            }
            #expect(await eventually { stream.envelopes.filter { $0.type == "conversation.assigned" }.count == 3 })
            #expect(Set(stream.envelopes.compactMap { $0[data: "id"] }) == Set(conversationIDs))
            // Each SSE message carries the event's seq as its id and its type as its name.
            for received in stream.events {
                #expect(received.id == received.envelope.map { String($0.seq) })
                #expect(received.event == received.envelope?.type)
            }
            #expect(await eventually { everything.envelopes.count == 3 })
            #expect(everything.envelopes.allSatisfy { $0.type == "conversation.assigned" })
            #expect(bobStream.envelopes.isEmpty)

            // Resume: a new stream from the first event's seq gets exactly the rest, then live ones.
            let firstSeq = try #require(everything.envelopes.first?.seq)
            let resumed = try EventStreamReader(
                port: port, token: cluster.token(.administrator), query: "?types=conversation.assigned",
                lastEventID: String(firstSeq))
            #expect(await eventually { resumed.envelopes.count == 2 })
            #expect(resumed.envelopes.map(\.seq) == Array(everything.envelopes.map(\.seq).dropFirst()))
            let fourth = try await kit.inbound(.messaging, from: "+4511111119", expecting: 201)
            _ = try await kit.routed(fourth)
            #expect(await eventually { resumed.envelopes.count == 3 && everything.envelopes.count == 4 })
            #expect(resumed.envelopes.last?[data: "id"] == fourth.conversationId)

            stream.close()
            #expect(await eventually { stream.ended })
        }
    }

    @Test func outboundMessagesCarryTheirDeliveryAndConnectorsReportIt() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let result = try await kit.inbound(.messaging, from: "+4522222222", expecting: 201)
            _ = try await kit.routed(result)
            let id = try #require(result.conversationId)
            let reply = try await kit.acting(as: ada).reply(id, body: "Hello there")
            #expect(reply.delivery == MessageDelivery(status: .pending))
            let connector = cluster.conversations(as: .service, sub: "sms-connector")

            let sent = try await connector.recordDelivery(reply.id, DeliveryReport(status: .sent, externalId: "sms-1"))
            #expect(sent.delivery?.status == .sent)
            #expect(sent.delivery?.externalId == "sms-1")
            // The same report again changes nothing and emits nothing.
            _ = try await connector.recordDelivery(reply.id, DeliveryReport(status: .sent, externalId: "sms-1"))
            let delivered = try await connector.recordDelivery(reply.id, DeliveryReport(status: .delivered))
            #expect(delivered.delivery?.status == .delivered)
            #expect(delivered.delivery?.externalId == "sms-1")
            // Going back is 409; an inbound message has no delivery (409); an unknown one is 404; an
            // agent may not report (403); a bad status is 400.
            let raw = cluster.raw(.conversations, token: cluster.token(.service))
            let back = try await raw.raw(
                "POST", "/v1/messages/\(reply.id)/delivery", body: Array(#"{"status":"failed"}"#.utf8))
            #expect(back.status == 409)
            let inbound = try await raw.raw(
                "POST", "/v1/messages/\(try #require(result.messageId))/delivery",
                body: Array(#"{"status":"sent"}"#.utf8))
            #expect(inbound.status == 409)
            let unknown = try await raw.raw(
                "POST", "/v1/messages/nope/delivery", body: Array(#"{"status":"sent"}"#.utf8))
            #expect(unknown.status == 404)
            let agent = try await cluster.raw(.conversations, token: cluster.token(.agent, sub: ada.id)).raw(
                "POST", "/v1/messages/\(reply.id)/delivery", body: Array(#"{"status":"sent"}"#.utf8))
            #expect(agent.status == 403)
            let bad = try await raw.raw(
                "POST", "/v1/messages/\(reply.id)/delivery", body: Array(#"{"status":"lost"}"#.utf8))
            #expect(bad.status == 400)

            let messages = try await kit.messages(id)
            #expect(messages.first?.delivery == nil)
            #expect(messages.last?.delivery?.status == .delivered)
            #expect(messages.last?.delivery?.externalId == "sms-1")
            let updates = try await Self.feed(kit.conversations, types: ["message.delivery_updated"])
            #expect(updates.map { $0[data: "previousStatus"] } == ["pending", "sent"])
            #expect(
                updates.compactMap { $0.data.objectValue?["delivery"]?.objectValue?["status"]?.stringValue } == [
                    "sent", "delivered",
                ])
            #expect(updates.allSatisfy { $0[data: "id"] == reply.id })
        }
    }

    @Test func transfersMovesQueuesAndSpamEachTellTheirChange() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk(capacity: PartialCounts(email: 1))
            let bob = try await kit.agent("Bob", inboxes: [support.id], capacity: PartialCounts(email: 5))
            let billing = try await kit.inbox("Billing")
            // Billing's only agent has no room for email: a conversation moved there waits.
            _ = try await kit.agent("Carla", inboxes: [billing.id], capacity: PartialCounts(email: 0))
            let first = try await kit.routed(try await kit.inbound(.email, from: "a@example.com", expecting: 201))
            let head = try #require(try await kit.conversations.events(limit: 500).items.last?.seq)

            let target = first.assigneeId == ada.id ? bob : ada
            let transferred = try await kit.conversations.assign(first.id, agentId: target.id)
            #expect(transferred.assigneeId == target.id)
            let moved = try await kit.conversations.move(first.id, inboxId: billing.id)
            #expect(moved.inboxId == billing.id)
            #expect(moved.routingState == .queued)
            let spam = try await cluster.raw(.conversations, token: cluster.token(.teamManager))
                .raw("POST", "/v1/conversations/\(first.id)/spam")
            #expect(spam.status == 200)
            let notSpam = try await cluster.raw(.conversations, token: cluster.token(.teamManager))
                .raw("POST", "/v1/conversations/\(first.id)/not-spam")
            #expect(notSpam.status == 200)

            let events = try await Self.feed(kit.conversations, after: head)
            let types = events.map(\.type)
            #expect(
                Array(types.prefix(5)) == [
                    "conversation.assigned", "conversation.moved", "conversation.queued", "conversation.spam",
                    "conversation.not_spam",
                ])
            #expect(events[0][data: "assigneeId"] == target.id)
            #expect(events[0][data: "previousAssigneeId"] == first.assigneeId)
            #expect(events[1][data: "inboxId"] == billing.id)
            #expect(events[1][data: "previousInboxId"] == support.id)
            #expect(events[2][data: "routingState"] == "queued")
            #expect(events[2][data: "previousAssigneeId"] == target.id)
            #expect(events[3].data.objectValue?["spam"] == .bool(true))
            #expect(events[4].data.objectValue?["spam"] == .bool(false))
            // Who saw what: the first assignee never saw the transfer away; the new one did.
            let targetSees = try await Self.feed(kit.acting(as: target), after: head)
            #expect(targetSees.first?.type == "conversation.assigned")
            #expect(!targetSees.contains { $0.type == "conversation.spam" || $0.type == "conversation.not_spam" })
        }
    }

    @Test func theTypedClientStreamsEventsAndLeavingTheLoopClosesTheStream() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk(capacity: PartialCounts(messaging: 10))
            let stream = try await kit.conversations.eventStream(types: ["conversation.created"])
            #expect(await eventually { await Self.metric("concierge_event_streams", cluster) == 1 })
            var created: [String] = []
            for index in 0..<3 {
                let result = try await kit.inbound(.messaging, from: "+4566666\(index)00", expecting: 201)
                created.append(try #require(result.conversationId))
            }
            var seen: [String] = []
            for try await event in stream {
                #expect(event.type == "conversation.created")
                seen.append(event[data: "id"] ?? "")
                if seen.count == 3 { break }
            }
            #expect(seen == created)
            #expect(await eventually { await Self.metric("concierge_event_streams", cluster) == 0 })
            // Resuming after the first gets the other two.
            let first = try #require(try await kit.conversations.events(types: ["conversation.created"]).items.first)
            var resumed: [String] = []
            for try await event in try await kit.conversations.eventStream(
                after: first.seq, types: ["conversation.created"])
            {
                resumed.append(event[data: "id"] ?? "")
                if resumed.count == 2 { break }
            }
            #expect(resumed == Array(created.dropFirst()))
            // An agent's token on a bad filter: the problem comes back as an error.
            await #expect(throws: ServiceError.self) {
                _ = try await kit.conversations.eventStream(types: ["Bad Type"])
            }
        }
    }
}
