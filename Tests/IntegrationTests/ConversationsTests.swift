import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The inbound pipeline against real contacts, routing and conversations processes (SPEC §4).
@Suite struct ConversationInboundTests {
    @Test func newContactEmailCreatesAWaitingConversationRoutedToTheDefaultInbox() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let answer = try await kit.send(
                .email, from: " New@Example.com ", body: "My order is late", name: "Nina", subject: "Order 42")
            #expect(answer.code == 201)
            let result = try #require(answer.result)
            #expect(result.dropped == false)
            #expect(result.spam == false)
            #expect(result.status == .waiting)
            #expect(result.replies.isEmpty)
            let conversationID = try #require(result.conversationId)
            #expect(result.messageId != nil)

            let conversation = try await kit.routed(result)
            #expect(conversation.contactId == result.contactId)
            #expect(conversation.channel == .email)
            #expect(conversation.status == .waiting)
            #expect(conversation.subject == "Order 42")
            #expect(conversation.inboxId == support.id)
            #expect(conversation.assigneeId == ada.id)
            #expect(conversation.routingState == .assigned)
            #expect(conversation.closedAt == nil)
            #expect(conversation.firstResponseAt == nil)
            #expect(conversation.spam == false)
            #expect(conversation.createdAt.hasSuffix("Z"))

            let contact = try await kit.contacts.get(result.contactId)
            #expect(contact.emails == ["new@example.com"])
            #expect(contact.name == "Nina")
            let messages = try await kit.messages(conversationID)
            #expect(messages.count == 1)
            #expect(messages.first?.id == result.messageId)
            #expect(messages.first?.direction == .inbound)
            #expect(messages.first?.author == MessageAuthor(type: .contact, id: result.contactId))
            #expect(messages.first?.body == "My order is late")
            #expect(try await kit.load(ada.id).email == 1)
        }
    }

    /// SPEC §4 steps 5–6: with routing up, the answer carries routing's decision; `pending` is for
    /// a routing service that is down. Before each message a few conversations are closed, so the
    /// conversations service still has release calls for routing in its outbox.
    @Test func inboundAnswerCarriesRoutingsDecision() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk(capacity: PartialCounts(email: 100))
            for round in 0..<3 {
                var open: [String] = []
                for i in 0..<6 {
                    open.append(
                        try await kit.routed(
                            try await kit.inbound(.email, from: "r\(round)-c\(i)@example.com", expecting: 201)
                        ).id)
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in open { group.addTask { _ = try await kit.conversations.close(id) } }
                    try await group.waitForAll()
                }
                let result = try await kit.inbound(.email, from: "answer\(round)@example.com", expecting: 201)
                #expect(
                    result.routingState == .assigned, "round \(round): \(result.routingState.map(\.rawValue) ?? "nil")")
                #expect(result.assigneeId == ada.id, "round \(round)")
                #expect(result.inboxId == support.id, "round \(round)")
                #expect(result.queueId == nil)
            }
        }
    }

    @Test func secondMessageThreadsAndAnotherChannelStartsANewConversation() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let first = try await kit.inbound(.email, from: "tom@example.com", body: "one", expecting: 201)
            let second = try await kit.inbound(.email, from: "TOM@example.com", body: "two", expecting: 200)
            #expect(second.conversationId == first.conversationId)
            #expect(second.contactId == first.contactId)
            #expect(try await kit.routed(second).assigneeId == ada.id)
            let conversationID = try #require(first.conversationId)
            #expect(try await kit.messages(conversationID).map(\.body) == ["one", "two"])
            // Routing was asked once: threading a message does not add load.
            #expect(try await kit.load(ada.id).email == 1)

            _ = try await kit.contacts.update(first.contactId, ContactPatch(phones: ["+4511223344"]))
            let chat = try await kit.inbound(.messaging, from: "+45 11 22 33 44", body: "three", expecting: 201)
            #expect(chat.contactId == first.contactId)
            #expect(chat.conversationId != first.conversationId)
            let chatConversation = try await kit.conversations.conversation(try #require(chat.conversationId))
            #expect(chatConversation.channel == .messaging)
            #expect(chatConversation.routingState == .assigned)
            #expect(try await kit.messages(conversationID).count == 2)
            let all = try await kit.allConversations(.init(contactId: first.contactId))
            #expect(Set(all.map(\.id)) == [conversationID, chatConversation.id])
        }
    }

    @Test func explicitConversationIdOfAClosedConversationReopensIt() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let first = try await kit.inbound(.email, from: "rita@example.com", expecting: 201)
            let conversationID = try #require(first.conversationId)
            let closed = try await kit.conversations.close(conversationID)
            #expect(closed.status == .closed)
            #expect(closed.closedAt != nil)
            #expect(try await eventually(within: 10) { try await kit.load(ada.id).email == 0 })

            let reopened = try await kit.inbound(
                .email, from: "rita@example.com", body: "It broke again", conversationId: conversationID, expecting: 200
            )
            #expect(reopened.conversationId == conversationID)
            #expect(reopened.status == .waiting)
            let conversation = try await kit.routed(reopened)
            #expect(conversation.assigneeId == ada.id)
            #expect(conversation.inboxId == support.id)
            #expect(conversation.status == .waiting)
            #expect(conversation.closedAt == nil)
            #expect(conversation.routingState == .assigned)
            // Routing was asked again, as a reopening, and holds the assignment again.
            let decision = try await kit.routing.decision(conversationID)
            #expect(decision.assigneeId == ada.id)
            #expect(decision.trace.contains { ($0.step + " " + $0.outcome).contains("reopened") })
            #expect(try await kit.load(ada.id).email == 1)
            #expect(try await kit.allConversations(.init(contactId: first.contactId)).count == 1)
        }
    }

    @Test func conversationIdOfAnotherContactIsIgnored() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let alice = try await kit.inbound(.email, from: "alice@example.com", body: "alice 1", expecting: 201)
            let aliceConversation = try #require(alice.conversationId)
            let bob = try await kit.inbound(
                .email, from: "bob@example.com", body: "bob 1", conversationId: aliceConversation, expecting: 201)
            #expect(bob.conversationId != aliceConversation)
            #expect(bob.contactId != alice.contactId)
            let bobAgain = try await kit.inbound(
                .email, from: "bob@example.com", body: "bob 2", conversationId: aliceConversation, expecting: 200)
            #expect(bobAgain.conversationId == bob.conversationId)
            // Even a closed conversation of someone else is not reopened by naming it.
            _ = try await kit.conversations.close(aliceConversation)
            let bobThird = try await kit.inbound(
                .email, from: "bob@example.com", body: "bob 3", conversationId: aliceConversation, expecting: 200)
            #expect(bobThird.conversationId == bob.conversationId)
            #expect(try await kit.messages(aliceConversation).map(\.body) == ["alice 1"])
            #expect(try await kit.conversations.conversation(aliceConversation).status == .closed)
            #expect(
                try await kit.messages(try #require(bob.conversationId)).map(\.body) == ["bob 1", "bob 2", "bob 3"])
        }
    }

    @Test func retriedExternalIdAnswersTheOriginalResultAndIsStoredOnce() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let first = try await kit.send(.email, from: "retry@example.com", body: "original", externalId: "mail-1")
            #expect(first.code == 201)
            let original = try #require(first.result)
            let retry = try await kit.send(.email, from: "retry@example.com", body: "original", externalId: "mail-1")
            #expect(retry.code == 201)
            #expect(retry.result?.conversationId == original.conversationId)
            #expect(retry.result?.messageId == original.messageId)
            #expect(retry.result?.contactId == original.contactId)
            // A retry whose body changed in transit is still the same message.
            let altered = try await kit.send(.email, from: "retry@example.com", body: "altered", externalId: "mail-1")
            #expect(altered.result?.messageId == original.messageId)
            let conversationID = try #require(original.conversationId)
            #expect(try await kit.messages(conversationID).map(\.body) == ["original"])

            // Concurrent retries of one new message: one conversation, one message.
            let answers = try await withThrowingTaskGroup(of: ConversationKit.Answer.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await kit.send(.email, from: "burst@example.com", body: "once", externalId: "mail-2")
                    }
                }
                return try await group.reduce(into: [ConversationKit.Answer]()) { $0.append($1) }
            }
            #expect(
                answers.allSatisfy { (200..<300).contains($0.code) },
                "\(answers.map { "\($0.code) \(String(decoding: $0.body, as: UTF8.self))" })")
            #expect(Set(answers.compactMap { $0.result?.messageId }).count == 1)
            let burstConversations = Set(answers.compactMap { $0.result?.conversationId })
            #expect(burstConversations.count == 1)
            let burstID = try #require(burstConversations.first)
            #expect(try await kit.messages(burstID).map(\.body) == ["once"])
            #expect(try await kit.allConversations().count == 2)
        }
    }

    @Test func blockedContactsMessagesAreDroppedUntilUnblocked() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let first = try await kit.inbound(.email, from: "pest@example.com", body: "first", expecting: 201)
            let conversationID = try #require(first.conversationId)
            let before = try await kit.conversations.conversation(conversationID)
            _ = try await kit.contacts.block(first.contactId)

            let dropped = try await kit.send(.email, from: "pest@example.com", body: "second")
            #expect(dropped.code == 200)
            let json = try #require(dropped.json)
            #expect(json["dropped"] as? Bool == true)
            #expect(json["reason"] as? String == "contact_blocked")
            #expect(json["contactId"] as? String == first.contactId)
            #expect(dropped.result?.conversationId == nil)
            // Naming the conversation does not get past the block either.
            let named = try await kit.send(
                .email, from: "pest@example.com", body: "third", conversationId: conversationID)
            #expect(named.code == 200)
            #expect(named.result?.dropped == true)
            _ = try await kit.contacts.update(first.contactId, ContactPatch(phones: ["+4599887766"]))
            let otherChannel = try await kit.send(.voice, from: "+4599887766", body: "call")
            #expect(otherChannel.result?.dropped == true)

            #expect(try await kit.conversations.conversation(conversationID) == before)
            #expect(try await kit.messages(conversationID).map(\.body) == ["first"])
            #expect(try await kit.allConversations().map(\.id) == [conversationID])

            _ = try await kit.contacts.unblock(first.contactId)
            let accepted = try await kit.inbound(.email, from: "pest@example.com", body: "fourth", expecting: 200)
            #expect(accepted.dropped == false)
            #expect(accepted.conversationId == conversationID)
            #expect(try await kit.messages(conversationID).map(\.body) == ["first", "fourth"])
        }
    }

    @Test func contactsDownIs503AndNothingIsStored() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let contactsService = try cluster.service(.contacts)
            await contactsService.stop()
            let answer = try await kit.send(.email, from: "lost@example.com", body: "anyone?", externalId: "lost-1")
            #expect(answer.code == 503)
            #expect(answer.problem?.status == 503)
            try await contactsService.start()
            #expect(try await kit.allConversations().isEmpty)
            #expect(try await kit.contacts.search(.init(email: "lost@example.com")).items.isEmpty)
            // The external id was not burnt by the failed attempt: the connector's retry goes through.
            let retry = try await kit.inbound(
                .email, from: "lost@example.com", body: "anyone?", externalId: "lost-1", expecting: 201)
            #expect(try await kit.messages(try #require(retry.conversationId)).count == 1)
        }
    }

    @Test func badInboundRequestsAreRefusedPrecisely() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let service = cluster.raw(.conversations, token: cluster.token(.service))
            let good = #"{"channel":"email","from":"x@example.com","body":"hi"}"#
            let wrongType = try await service.raw(
                "POST", "/v1/inbound", body: Array(good.utf8), contentType: "text/plain")
            #expect(wrongType.status == 415)
            for (body, field) in [
                (#"{"channel":"email","from":"x@example.com"}"#, "body"),
                (#"{"channel":"fax","from":"x@example.com","body":"hi"}"#, "channel"),
                (#"{"channel":"email","body":"hi"}"#, "from"),
                (#"{"channel":"email","from":"x@example.com","body":7}"#, "body"),
            ] {
                let response = try await service.raw("POST", "/v1/inbound", body: Array(body.utf8))
                #expect(response.status == 400, "\(body)")
                #expect(response.header("content-type") == "application/problem+json")
                let problem = try? JSONDecoder().decode(Problem.self, from: Data(response.body))
                #expect(
                    problem?.errors?.contains { $0.field == field } == true,
                    "\(body) → \(String(decoding: response.body, as: UTF8.self))")
            }
            let voice = try await kit.send(.voice, from: "4512345678", body: "call me")
            #expect(voice.code == 400)
            #expect(voice.problem?.errors?.contains { $0.field == "from" } == true)
            let badEmail = try await kit.send(.email, from: "not-an-address", body: "hi")
            #expect(badEmail.code == 400)
            #expect(badEmail.problem?.errors?.contains { $0.field == "from" } == true)

            #expect(try await kit.send(.email, from: "x@example.com", token: cluster.token(.agent)).code == 403)
            #expect(try await kit.send(.email, from: "x@example.com", token: cluster.token(.teamManager)).code == 403)
            #expect(
                try await cluster.raw(.conversations).raw("POST", "/v1/inbound", body: Array(good.utf8)).status == 401)
            #expect(try await kit.send(.email, from: "x@example.com", token: cluster.token(.administrator)).code == 201)
            // Only the administrator's message got in.
            #expect(try await kit.allConversations().count == 1)
        }
    }
}

/// Statuses, replies and closing (SPEC §4 "Statuses").
@Suite struct ConversationStatusTests {
    @Test func statusesFollowTheConversation() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let asAda = kit.acting(as: ada)
            let first = try await kit.inbound(.email, from: "sam@example.com", body: "help", expecting: 201)
            let id = try #require(first.conversationId)
            #expect(first.status == .waiting)

            let reply = try await asAda.reply(id, body: "On it")
            #expect(reply.direction == .outbound)
            #expect(reply.author == MessageAuthor(type: .agent, id: ada.id))
            #expect(reply.senderName == "Acme Support")
            #expect(reply.signature == "-- Acme")
            #expect(reply.conversationId == id)
            let open = try await kit.conversations.conversation(id)
            #expect(open.status == .open)
            let firstResponse = try #require(open.firstResponseAt)

            _ = try await asAda.reply(id, body: "Still on it")
            #expect(try await kit.conversations.conversation(id).firstResponseAt == firstResponse)

            let customer = try await kit.inbound(.email, from: "sam@example.com", body: "thanks, but", expecting: 200)
            #expect(customer.conversationId == id)
            #expect(customer.status == .waiting)
            #expect(try await kit.conversations.conversation(id).status == .waiting)

            let closed = try await asAda.close(id)
            #expect(closed.status == .closed)
            #expect(closed.closedAt != nil)
            #expect(closed.firstResponseAt == firstResponse)
            #expect(try await eventually(within: 10) { try await kit.load(ada.id).email == 0 })

            let late = await ConversationKit.problem { try await asAda.reply(id, body: "one more thing") }
            #expect(late?.status == 409)
            let twice = await ConversationKit.problem { try await asAda.close(id) }
            #expect(twice?.status == 409)

            let messages = try await kit.messages(id)
            #expect(messages.map(\.body) == ["help", "On it", "Still on it", "thanks, but"])
            #expect(messages.map(\.direction) == [.inbound, .outbound, .outbound, .inbound])

            // No conversation id: the closed one is not the thread any more.
            let fresh = try await kit.inbound(.email, from: "sam@example.com", body: "new problem", expecting: 201)
            #expect(fresh.conversationId != id)
            #expect(fresh.status == .waiting)
            #expect(try await kit.routed(fresh).assigneeId == ada.id)
            #expect(try await kit.conversations.conversation(id).status == .closed)
            // With the conversation id: reopened.
            let reopened = try await kit.inbound(
                .email, from: "sam@example.com", body: "about the old one", conversationId: id, expecting: 200)
            #expect(reopened.conversationId == id)
            #expect(reopened.status == .waiting)
            let again = try await kit.routed(reopened)
            #expect(again.routingState == .assigned)
            #expect(again.status == .waiting)
            #expect(again.closedAt == nil)
            #expect(try await kit.load(ada.id).email == 2)
        }
    }

    @Test func closingAtOnceAndReopeningAtOnceLeavesRoutingConsistent() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let first = try await kit.inbound(.email, from: "quick@example.com", expecting: 201)
            let id = try #require(first.conversationId)
            _ = try await kit.conversations.close(id)
            // No waiting between the close and the customer's answer.
            let reopened = try await kit.inbound(
                .email, from: "quick@example.com", body: "wait", conversationId: id, expecting: 200)
            #expect(reopened.status == .waiting)
            // Once the outboxes are quiet, routing and the conversation agree: Ada holds it, once.
            let settled = try await eventually(within: 10) {
                let conversation = try await kit.conversations.conversation(id)
                let decision = try? await kit.routing.decision(id)
                return conversation.assigneeId == ada.id && conversation.routingState == .assigned
                    && decision?.assigneeId == ada.id && decision?.routingState == .assigned
            }
            #expect(settled)
            #expect(try await kit.load(ada.id).email == 1)
        }
    }

    @Test func replyNeedsAnAgentAndABody() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let first = try await kit.inbound(.email, from: "body@example.com", expecting: 201)
            let id = try #require(first.conversationId)
            let empty = await ConversationKit.problem { try await kit.acting(as: ada).reply(id, body: "  ") }
            #expect(empty?.status == 400)
            let raw = cluster.raw(.conversations, token: cluster.token(.agent, sub: ada.id))
            #expect(try await raw.raw("POST", "/v1/conversations/\(id)/messages", body: Array("{}".utf8)).status == 400)
            #expect(
                try await raw.raw(
                    "POST", "/v1/conversations/\(id)/messages", body: Array(#"{"body":"x"}"#.utf8),
                    contentType: "text/plain"
                ).status == 415)
            #expect(try await cluster.raw(.conversations).raw("GET", "/v1/conversations/\(id)").status == 401)
            #expect(
                await ConversationKit.problem { try await kit.conversations.conversation("no-such-conversation") }?
                    .status == 404)
            #expect(
                await ConversationKit.problem {
                    try await kit.acting(as: ada).reply("no-such-conversation", body: "hi")
                }?.status == 404)
            #expect(try await kit.messages(id).count == 1)
            #expect(try await kit.conversations.conversation(id).status == .waiting)
        }
    }
}

/// Transfers, hero reassignment, moves and tags (SPEC §4 routes).
@Suite struct ConversationActionTests {
    @Test func assignTransfersToAnyActiveAgentAndMovesTheLoad() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let bob = try await kit.agent("Bob", inboxes: [support.id], capacity: PartialCounts(email: 0))
            let first = try await kit.inbound(.email, from: "move-me@example.com", expecting: 201)
            let id = try #require(first.conversationId)
            #expect(try await kit.routed(first).assigneeId == ada.id)

            // Bob has no email capacity at all: a manual transfer does not care.
            let moved = try await kit.acting(as: ada).assign(id, agentId: bob.id)
            #expect(moved.assigneeId == bob.id)
            #expect(moved.routingState == .assigned)
            #expect(try await kit.conversations.conversation(id).assigneeId == bob.id)
            #expect(try await kit.load(ada.id).email == 0)
            #expect(try await kit.load(bob.id).email == 1)
            #expect(try await kit.routing.decision(id).assigneeId == bob.id)

            let unknown = await ConversationKit.problem {
                try await kit.conversations.assign(id, agentId: "no-such-agent")
            }
            #expect(unknown?.status == 422)
            let gone = try await kit.agent("Gone", inboxes: [support.id])
            _ = try await cluster.routing(as: .teamManager).deactivate(gone.id)
            let inactive = await ConversationKit.problem { try await kit.conversations.assign(id, agentId: gone.id) }
            #expect(inactive?.status == 422)
            let badBody = try await cluster.raw(.conversations, token: cluster.token(.agent))
                .raw("POST", "/v1/conversations/\(id)/assign", body: Array("{}".utf8))
            #expect(badBody.status == 400)
            #expect(try await kit.conversations.conversation(id).assigneeId == bob.id)

            _ = try await kit.conversations.close(id)
            let closedTransfer = await ConversationKit.problem {
                try await kit.conversations.assign(id, agentId: ada.id)
            }
            #expect(closedTransfer?.status == 409)
        }
    }

    @Test func reassignToHeroFollowsTheHeroKind() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let heroes = try await kit.inbox("Heroes")
            let hank = try await kit.agent("Hank", inboxes: [heroes.id])
            let helen = try await kit.agent("Helen", inboxes: [heroes.id])

            let noHero = try await kit.inbound(.email, from: "plain@example.com", expecting: 201)
            let noHeroID = try #require(noHero.conversationId)
            let conflict = await ConversationKit.problem { try await kit.conversations.reassignToHero(noHeroID) }
            #expect(conflict?.status == 409)
            #expect(try await kit.conversations.conversation(noHeroID).assigneeId == ada.id)

            let agentHeroed = try await kit.inbound(.email, from: "agent-hero@example.com", expecting: 201)
            let agentHeroedID = try #require(agentHeroed.conversationId)
            #expect(try await kit.routed(agentHeroed).assigneeId == ada.id)
            _ = try await kit.contacts.setDedicatedHero(agentHeroed.contactId, DedicatedHero(type: .agent, id: hank.id))
            // A first hero leaves the open conversation alone; asking for it moves it.
            #expect(try await kit.conversations.conversation(agentHeroedID).assigneeId == ada.id)
            let toHank = try await kit.acting(as: ada).reassignToHero(agentHeroedID)
            #expect(toHank.assigneeId == hank.id)
            #expect(toHank.routingState == .assigned)
            #expect(try await kit.load(hank.id).email == 1)

            let inboxHeroed = try await kit.inbound(.email, from: "team-hero@example.com", expecting: 201)
            let inboxHeroedID = try #require(inboxHeroed.conversationId)
            #expect(try await kit.routed(inboxHeroed).inboxId == support.id)
            _ = try await kit.contacts.setDedicatedHero(
                inboxHeroed.contactId, DedicatedHero(type: .inbox, id: heroes.id))
            _ = try await kit.routing.setAvailability(hank.id, .away)
            let toTeam = try await kit.conversations.reassignToHero(inboxHeroedID)
            #expect(toTeam.inboxId == heroes.id)
            #expect(toTeam.assigneeId == helen.id)
            #expect(toTeam.routingState == .assigned)
            let read = try await kit.conversations.conversation(inboxHeroedID)
            #expect(read.inboxId == heroes.id)
            #expect(read.assigneeId == helen.id)
        }
    }

    @Test func moveClearsTheAssigneeAndRoutesWithinTheNewInbox() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let billing = try await kit.inbox("Billing")
            let carl = try await kit.agent("Carl", inboxes: [billing.id])
            let empty = try await kit.inbox("Overflow")

            let first = try await kit.inbound(.email, from: "invoice@example.com", expecting: 201)
            let id = try #require(first.conversationId)
            let moved = try await kit.acting(as: ada).move(id, inboxId: billing.id)
            #expect(moved.inboxId == billing.id)
            #expect(moved.assigneeId == carl.id)
            #expect(moved.routingState == .assigned)
            #expect(try await kit.load(ada.id).email == 0)
            #expect(try await kit.load(carl.id).email == 1)

            let parked = try await kit.conversations.move(id, inboxId: empty.id)
            #expect(parked.inboxId == empty.id)
            #expect(parked.assigneeId == nil)
            #expect(parked.routingState == .queued)
            #expect(try await kit.load(carl.id).email == 0)
            #expect(try await kit.routing.queue(empty.id).waiting == [id])

            let unknown = await ConversationKit.problem {
                try await kit.conversations.move(id, inboxId: "no-such-inbox")
            }
            #expect(unknown?.status == 422)
            #expect(try await kit.conversations.conversation(id).inboxId == empty.id)

            // A member joining the inbox takes the waiting conversation (draining notice).
            _ = try await kit.routing.setMembers(empty.id, [carl.id])
            let drained = try await kit.conversation(id) { $0.assigneeId == carl.id }
            #expect(drained.assigneeId == carl.id)
            #expect(drained.routingState == .assigned)
            #expect(drained.inboxId == empty.id)
        }
    }

    @Test func tagsAreAddedAndRemovedCaseInsensitively() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let asAda = kit.acting(as: ada)
            let tagged = try #require(
                try await kit.inbound(.email, from: "t1@example.com", expecting: 201).conversationId)
            let other = try #require(
                try await kit.inbound(.email, from: "t2@example.com", expecting: 201).conversationId)

            #expect(try await asAda.tags(tagged, add: ["Urgent", "billing"]).tags == ["Urgent", "billing"])
            #expect(try await asAda.tags(tagged, add: ["URGENT", " refund "]).tags == ["Urgent", "billing", "refund"])
            #expect(try await asAda.tags(other, add: ["Billing"]).tags == ["Billing"])
            #expect(try await asAda.tags(tagged, remove: ["BILLING"]).tags == ["Urgent", "refund"])
            #expect(try await kit.conversations.conversation(tagged).tags == ["Urgent", "refund"])

            #expect(try await kit.allConversations(.init(tag: "urgent")).map(\.id) == [tagged])
            #expect(try await kit.allConversations(.init(tag: "BILLING")).map(\.id) == [other])
            #expect(try await kit.allConversations(.init(tag: "Refund")).map(\.id) == [tagged])
            #expect(try await kit.allConversations(.init(tag: "nothing")).isEmpty)

            let blank = await ConversationKit.problem { try await asAda.tags(tagged, add: ["ok", ""]) }
            #expect(blank?.status == 400)
            #expect(blank?.errors?.first?.field == "add[1]")
            #expect(try await kit.conversations.conversation(tagged).tags == ["Urgent", "refund"])
        }
    }
}

/// `GET /v1/conversations` filters and paging (SPEC §4, §2 lists).
@Suite struct ConversationListTests {
    @Test func listFiltersByEveryField() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let sales = try await kit.inbox("Sales")
            let bob = try await kit.agent("Bob", inboxes: [sales.id])
            let mail1 = try #require(
                try await kit.inbound(.email, from: "l1@example.com", expecting: 201).conversationId)
            let mail2 = try await kit.inbound(.email, from: "l2@example.com", expecting: 201)
            let mail2ID = try #require(mail2.conversationId)
            let mail3 = try #require(
                try await kit.inbound(.email, from: "l3@example.com", expecting: 201).conversationId)
            let chat = try #require(
                try await kit.inbound(.messaging, from: "chat-visitor-1", expecting: 201).conversationId)
            _ = try await kit.conversations.close(mail1)
            _ = try await kit.conversations.move(mail3, inboxId: sales.id)
            _ = try await kit.conversations.tags(chat, add: ["VIP"])
            _ = try await kit.acting(as: ada).reply(mail2ID, body: "hello")

            #expect(try await kit.allConversations().map(\.id) == [chat, mail3, mail2ID, mail1])
            #expect(try await kit.allConversations(.init(status: .closed)).map(\.id) == [mail1])
            #expect(try await kit.allConversations(.init(status: .open)).map(\.id) == [mail2ID])
            #expect(try await kit.allConversations(.init(status: .waiting)).map(\.id) == [chat, mail3])
            #expect(try await kit.allConversations(.init(inboxId: sales.id)).map(\.id) == [mail3])
            #expect(try await kit.allConversations(.init(inboxId: support.id)).map(\.id) == [chat, mail2ID, mail1])
            #expect(try await kit.allConversations(.init(assigneeId: bob.id)).map(\.id) == [mail3])
            #expect(try await kit.allConversations(.init(contactId: mail2.contactId)).map(\.id) == [mail2ID])
            #expect(try await kit.allConversations(.init(channel: .messaging)).map(\.id) == [chat])
            #expect(try await kit.allConversations(.init(tag: "vip")).map(\.id) == [chat])
            #expect(try await kit.allConversations(.init(status: .waiting, channel: .email)).map(\.id) == [mail3])
            #expect(try await kit.allConversations(.init(contactId: "no-such-contact")).isEmpty)

            // Agents read lists too; spam lists are for managers and administrators.
            let asAda = kit.acting(as: ada)
            #expect(try await asAda.conversations().items.count == 4)
            let spam = await ConversationKit.problem { try await asAda.conversations(.init(spam: true)) }
            #expect(spam?.status == 403)
            #expect(try await kit.manager.conversations(.init(spam: true)).items.isEmpty)
            #expect(try await kit.manager.conversations(.init(spam: false)).items.count == 4)

            let raw = cluster.raw(.conversations, token: cluster.token(.agent))
            for query in [
                "limit=0", "limit=501", "limit=abc", "status=pending", "channel=fax", "spam=maybe", "cursor=xyz",
            ] {
                #expect(try await raw.raw("GET", "/v1/conversations?\(query)").status == 400, "\(query)")
            }
        }
    }

    @Test func cursorPagingIsNewestFirstWithoutDuplicates() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk(capacity: PartialCounts(email: 50))
            var ids: [String] = []
            for i in 0..<7 {
                ids.append(
                    try #require(
                        try await kit.inbound(.email, from: "page\(i)@example.com", expecting: 201).conversationId))
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await kit.conversations.conversations(.init(limit: 3, cursor: cursor))
                #expect(page.items.count <= 3)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
                // A conversation arriving mid-walk must not shift what the cursor has not reached.
                if pages == 1 { _ = try await kit.inbound(.email, from: "late@example.com", expecting: 201) }
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ids.reversed())
            #expect(Set(seen).count == seen.count)
            let exact = try await kit.conversations.conversations(.init(limit: 8))
            #expect(exact.items.count == 8)
            #expect(exact.nextCursor == nil)
        }
    }
}

/// `GET /v1/reports/conversations` (SPEC §4).
@Suite struct ConversationReportTests {
    @Test func reportCountsAndMeasuresTheRange() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let empty = try await kit.manager.report()
            #expect(empty.total == 0)
            #expect(empty.firstResponseSeconds.median == nil)
            #expect(empty.resolutionSeconds.median == nil)

            let mail1 = try #require(
                try await kit.inbound(.email, from: "r1@example.com", expecting: 201).conversationId)
            let mail2 = try #require(
                try await kit.inbound(.email, from: "r2@example.com", expecting: 201).conversationId)
            let chat = try #require(
                try await kit.inbound(.messaging, from: "r3-visitor", expecting: 201).conversationId)
            _ = try await kit.conversations.tags(mail1, add: ["billing", "vip"])
            _ = try await kit.conversations.tags(mail2, add: ["VIP"])
            _ = try await kit.conversations.tags(chat, add: ["VIP"])
            _ = try await kit.acting(as: ada).reply(mail1, body: "answer")

            let beforeClose = try await kit.manager.report()
            #expect(beforeClose.total == 3)
            #expect(beforeClose.byStatus == ["open": 1, "waiting": 2])
            #expect(beforeClose.firstResponseSeconds.median != nil)
            #expect(beforeClose.resolutionSeconds.median == nil)

            _ = try await kit.conversations.close(mail1)
            let report = try await kit.manager.report()
            #expect(report.total == 3)
            #expect(report.byStatus == ["closed": 1, "waiting": 2])
            #expect(report.byChannel == ["email": 2, "messaging": 1])
            #expect(report.byInbox == [support.id: 3])
            // Counted case-insensitively, keyed by the spelling most of them carry (tags keep their case).
            #expect(report.byTag == ["billing": 1, "VIP": 3])
            let firstResponse = try #require(report.firstResponseSeconds.median)
            let resolution = try #require(report.resolutionSeconds.median)
            #expect(firstResponse >= 0)
            #expect(resolution >= firstResponse)
            #expect(report.firstResponseSeconds.p90 != nil)

            #expect(try await kit.manager.report(channel: .messaging).total == 1)
            #expect(try await kit.manager.report(tag: "BILLING").total == 1)
            #expect(try await kit.manager.report(inboxId: support.id).total == 3)
            let future = try await kit.manager.report(from: "2999-01-01T00:00:00.000Z")
            #expect(future.total == 0)
            #expect(future.byStatus.isEmpty)
            #expect(future.resolutionSeconds.median == nil)
            #expect(try await kit.manager.report(from: "2000-01-01T00:00:00Z", to: "2999-01-01T00:00:00Z").total == 3)

            let badFrom = await ConversationKit.problem { try await kit.manager.report(from: "yesterday") }
            #expect(badFrom?.status == 400)
            #expect(badFrom?.errors?.first?.field == "from")
            let asAgent = await ConversationKit.problem { try await kit.acting(as: ada).report() }
            #expect(asAgent?.status == 403)
            #expect(try await kit.conversations.report().total == 3)
        }
    }
}
