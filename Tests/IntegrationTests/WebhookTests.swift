import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Webhooks against real processes and a real local receiver: signatures, order, retries,
/// `Retry-After`, disabling, rotation, replay, and delivery across a SIGKILL.
@Suite struct WebhookTests {
    /// Retries come fast here: 0.2 s, then 0.3 s.
    static let fastRetries = ["CONCIERGE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.3"]

    @Test func deliveriesAreSignedInOrderAndVerifyOnlyWithTheirSecret() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations], environment: Self.fastRetries) { cluster in
                let kit = ConversationKit(cluster)
                _ = try await kit.desk(capacity: PartialCounts(messaging: 20))
                let hooks = kit.conversations.webhooks
                let webhook = try await hooks.create(
                    NewWebhook(url: url, types: ["conversation.*", "message.created"], description: "desk"))
                let secret = try #require(webhook.secret)
                #expect(secret.hasPrefix("whsec_"))
                #expect(webhook.status == .active)
                #expect(try await hooks.get(webhook.id).secret == nil)
                #expect(try await hooks.list().items.map(\.id) == [webhook.id])

                for index in 0..<5 {
                    _ = try await kit.routed(
                        try await kit.inbound(.messaging, from: "+4533333\(index)00", expecting: 201))
                }
                let feed = try await kit.conversations.events(
                    types: ["conversation.*", "message.created"], limit: 500
                ).items
                #expect(await eventually(within: 10) { receiver.taken.count == feed.count })
                #expect(receiver.envelopes.map(\.seq) == feed.map(\.seq))
                #expect(receiver.envelopes == feed)
                for delivery in receiver.taken {
                    #expect(delivery.id == delivery.envelope?.id)
                    #expect(
                        WebhookSignature.verify(
                            secret: secret, id: delivery.id, timestamp: delivery.timestamp,
                            signatures: delivery.signature, body: delivery.body))
                    #expect(
                        !WebhookSignature.verify(
                            secret: WebhookSignature.makeSecret(), id: delivery.id, timestamp: delivery.timestamp,
                            signatures: delivery.signature, body: delivery.body))
                    var tampered = delivery.body
                    tampered[tampered.count / 2] ^= 1
                    #expect(
                        !WebhookSignature.verify(
                            secret: secret, id: delivery.id, timestamp: delivery.timestamp,
                            signatures: delivery.signature, body: tampered))
                }
                let log = try await hooks.deliveries(webhook.id, limit: 500).items
                #expect(log.count == feed.count)
                #expect(log.allSatisfy { $0.status == .succeeded && $0.responseStatus == 204 && $0.attempt == 1 })
                #expect(log.map(\.seq) == feed.map(\.seq).reversed())

                // Bad webhooks are refused; only administrators manage them.
                let raw = cluster.raw(.conversations, token: cluster.token(.administrator))
                for body in [
                    #"{"url":"ftp://example.com/x","types":["*"]}"#, #"{"url":"http://","types":["*"]}"#,
                    #"{"url":"\#(url)","types":[]}"#, #"{"url":"\#(url)","types":["Not A Type"]}"#,
                ] {
                    #expect(try await raw.raw("POST", "/v1/webhooks", body: Array(body.utf8)).status == 422, "\(body)")
                }
                let asManager = try await cluster.raw(.conversations, token: cluster.token(.teamManager))
                    .raw("GET", "/v1/webhooks")
                #expect(asManager.status == 403)
            }
        }
    }

    @Test func aFailingReceiverGetsEveryEventInOrderOnceItRecoversAndRetryAfterIsHonoured() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations], environment: Self.fastRetries) { cluster in
                let kit = ConversationKit(cluster)
                _ = try await kit.desk(capacity: PartialCounts(messaging: 20))
                let hooks = kit.conversations.webhooks
                let webhook = try await hooks.create(NewWebhook(url: url, types: ["conversation.created"]))
                receiver.failNext(3)
                for index in 0..<4 {
                    _ = try await kit.inbound(.messaging, from: "+4544444\(index)00", expecting: 201)
                }
                #expect(await eventually(within: 10) { receiver.taken.count == 4 })
                // The first event failed three times; the later ones waited behind it.
                #expect(receiver.refused.count == 3)
                #expect(Set(receiver.refused.compactMap(\.id)) == [receiver.taken[0].id])
                let created = try await kit.conversations.events(types: ["conversation.created"]).items
                #expect(receiver.envelopes.map(\.seq) == created.map(\.seq))
                let log = try await hooks.deliveries(webhook.id).items.reversed().map { ($0.status, $0.attempt) }
                #expect(log.map(\.0) == [.failed, .failed, .failed, .succeeded, .succeeded, .succeeded, .succeeded])
                #expect(log.prefix(4).map(\.1) == [1, 2, 3, 4])
                let firstFailure = try #require(try await hooks.deliveries(webhook.id).items.last)
                #expect(firstFailure.responseStatus == 500 && firstFailure.nextAttemptAt != nil)

                // Retry-After: 2 s replaces the 0.2 s schedule.
                receiver.failNext(1, status: 503, retryAfter: "2")
                _ = try await kit.inbound(.messaging, from: "+4544444900", expecting: 201)
                #expect(await eventually(within: 10) { receiver.taken.count == 5 })
                let refusedAt = try #require(receiver.refused.last?.arrivedAt)
                let takenAt = try #require(receiver.taken.last?.arrivedAt)
                #expect(takenAt - refusedAt >= .milliseconds(1900))
            }
        }
    }

    @Test func aWebhookFailingForTheWholeWindowIsDisabledAndResumesWhenReactivated() async throws {
        let receiver = WebhookReceiver()
        var environment = Self.fastRetries
        environment["CONCIERGE_WEBHOOK_RETRY_HOURS"] = "0.0005"  // 1.8 s
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations], environment: environment) { cluster in
                let kit = ConversationKit(cluster)
                _ = try await kit.desk()
                let hooks = kit.conversations.webhooks
                let webhook = try await hooks.create(NewWebhook(url: url, types: ["conversation.created"]))
                receiver.failAll(true)
                _ = try await kit.inbound(.email, from: "down@example.com", expecting: 201)
                #expect(await eventually(within: 10) { (try? await hooks.get(webhook.id).status) == .disabled })
                let disabled = try await hooks.get(webhook.id)
                #expect(disabled.disabledReason?.contains("HTTP 503") == true)
                let attempts = receiver.refused.count
                #expect(attempts >= 2)
                _ = try await kit.inbound(.email, from: "later@example.com", expecting: 201)

                receiver.failAll(false)
                let active = try await hooks.update(webhook.id, WebhookPatch(status: .active))
                #expect(active.status == .active && active.disabledReason == nil)
                #expect(await eventually(within: 10) { receiver.taken.count == 2 })
                let created = try await kit.conversations.events(types: ["conversation.created"]).items
                #expect(receiver.envelopes.map(\.seq) == created.map(\.seq))

                // Replay sends every kept event after the given seq again, in order.
                _ = try await hooks.replay(webhook.id, after: 0)
                #expect(await eventually(within: 10) { receiver.taken.count == 4 })
                #expect(receiver.envelopes.suffix(2).map(\.seq) == created.map(\.seq))
                // Paused: nothing is sent until it is active again.
                _ = try await hooks.update(webhook.id, WebhookPatch(status: .paused))
                _ = try await kit.inbound(.email, from: "paused@example.com", expecting: 201)
                let invalid = try await cluster.raw(.conversations, token: cluster.token(.administrator)).raw(
                    "PATCH", "/v1/webhooks/\(webhook.id)", body: Array(#"{"status":"disabled"}"#.utf8))
                #expect(invalid.status == 422)
                _ = try await hooks.update(webhook.id, WebhookPatch(status: .active))
                #expect(await eventually(within: 10) { receiver.taken.count == 5 })
            }
        }
    }

    @Test func duringARotationDeliveriesCarryBothSignatures() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations], environment: Self.fastRetries) { cluster in
                let kit = ConversationKit(cluster)
                _ = try await kit.desk()
                let hooks = kit.conversations.webhooks
                let webhook = try await hooks.create(NewWebhook(url: url, types: ["conversation.created"]))
                let old = try #require(webhook.secret)
                let rotated = try await hooks.rotateSecret(webhook.id)
                let new = try #require(rotated.secret)
                #expect(new != old && new.hasPrefix("whsec_"))
                _ = try await kit.inbound(.email, from: "rotate@example.com", expecting: 201)
                #expect(await eventually(within: 10) { receiver.taken.count == 1 })
                let delivery = try #require(receiver.taken.first)
                #expect(delivery.signature?.split(separator: " ").count == 2)
                for secret in [old, new] {
                    #expect(
                        WebhookSignature.verify(
                            secret: secret, id: delivery.id, timestamp: delivery.timestamp,
                            signatures: delivery.signature, body: delivery.body))
                }
                try await hooks.delete(webhook.id)
                await #expect(throws: ServiceError.self) { try await hooks.get(webhook.id) }
            }
        }
    }

    @Test func undeliveredEventsSurviveASIGKILLAndArriveInOrderNoneSkipped() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations], environment: Self.fastRetries) { cluster in
                let kit = ConversationKit(cluster)
                _ = try await kit.desk()
                let hooks = kit.conversations.webhooks
                _ = try await hooks.create(NewWebhook(url: url, types: ["message.created"]))
                receiver.failAll(true)
                let first = try await kit.inbound(.email, from: "many@example.com", expecting: 201)
                let id = try #require(first.conversationId)
                for index in 1..<500 {
                    _ = try await kit.inbound(
                        .email, from: "many@example.com", body: "message \(index)", conversationId: id)
                }
                try await cluster.service(.conversations).restart(hard: true)
                receiver.failAll(false)
                let expected = try await kit.conversations.events(types: ["message.created"], limit: 500).items
                #expect(expected.count == 500)
                #expect(await eventually(within: 30) { Set(receiver.envelopes.map(\.seq)).count == 500 })
                // In order; a duplicate only for an event that was in flight.
                let seqs = receiver.envelopes.map(\.seq)
                #expect(seqs == seqs.sorted())
                #expect(Set(seqs) == Set(expected.map(\.seq)))
                #expect(seqs.count - Set(seqs).count <= 1)
            }
        }
    }

    @Test func anAgentReplyAndAWorkflowQuestionReachTheReceiverReadyToSend() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withServices([.contacts, .routing, .conversations, .crmLookup], environment: Self.fastRetries) {
                cluster in
                let kit = WorkflowKit(cluster)
                let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
                let sam = try await kit.agent("Sam", inboxes: [support.id])
                let question = "Which number can we call you on?"
                try await kit.activate(
                    #"""
                    {"start": "askPhone", "steps": [
                      {"id": "askPhone", "type": "ask", "question": "\#(question)", "expect": "phone", "saveTo": "contact.phone",
                       "maxRetries": 1, "next": "place", "onExhausted": "place"},
                      {"id": "place", "type": "assign", "to": {"inbox": "\#(support.id)"}}]}
                    """#)
                _ = try await kit.conversations.webhooks.create(NewWebhook(url: url, types: ["message.created"]))
                let first = try await kit.send(.email, from: "caller@example.com", subject: "Call me")
                #expect(first.replies.map(\.body) == [question])
                let placed = try await kit.send(.email, from: "caller@example.com", body: "+45 12 34 56 78")
                let conversationID = try #require(placed.conversationId)
                #expect(try await kit.placed(conversationID).assigneeId == sam.id)
                let reply = try await cluster.conversations(as: .agent, sub: sam.id).reply(
                    conversationID, body: "Calling now")

                func outbound() -> [EventEnvelope] { receiver.envelopes.filter { $0[data: "direction"] == "outbound" } }
                #expect(await eventually(within: 10) { outbound().count == 2 })
                let (asked, replied) = (outbound()[0], outbound()[1])
                #expect(asked[data: "body"] == question)
                #expect(asked.data.objectValue?["author"]?.objectValue?["type"] == .string("automation"))
                #expect(asked[data: "to"] == "caller@example.com")
                #expect(asked[data: "subject"] == "Re: Call me")
                #expect(asked[data: "channel"] == "email")
                #expect(replied[data: "id"] == reply.id)
                #expect(replied[data: "to"] == "caller@example.com")
                #expect(replied[data: "subject"] == "Re: Call me")
                #expect(replied[data: "inboxId"] == support.id)
                #expect(replied.data.objectValue?["delivery"]?.objectValue?["status"] == .string("pending"))
                // The inbound messages came too, in order between them.
                #expect(receiver.envelopes.map(\.seq) == receiver.envelopes.map(\.seq).sorted())
                #expect(receiver.envelopes.filter { $0[data: "direction"] == "inbound" }.count == 2)
            }
        }
    }

    @Test func eventsPastRetentionArePrunedAndACursorBeforeThemIsGone() async throws {
        // About 1.1 s of retention: pruned within a couple of seconds.
        try await withServices([.contacts], environment: ["CONCIERGE_EVENT_RETENTION_HOURS": "0.0003"]) { cluster in
            let contacts = cluster.contacts(as: .administrator)
            _ = try await contacts.create(NewContact(name: "Old One", emails: ["old@example.com"]))
            _ = try await contacts.create(NewContact(name: "Older Now", emails: ["older@example.com"]))
            let kept = try await contacts.events().items
            #expect(kept.count == 2)
            let first = try #require(kept.first)
            // The older goes; the newest stays (it holds the numbering).
            #expect(await eventually(within: 10) { (try? await contacts.events().items.map(\.seq)) == [first.seq + 1] })
            let gone = try await cluster.raw(.contacts, token: cluster.token(.administrator))
                .raw("GET", "/v1/events?after=\(first.seq - 1)")
            #expect(gone.status == 410)
            #expect(gone.header("content-type") == "application/problem+json")
            // From the last one given, the feed goes on; new events take new numbers.
            let latest = try await cluster.raw(.contacts, token: cluster.token(.administrator))
                .raw("GET", "/v1/events?after=\(first.seq)")
            #expect(latest.status == 200)
            _ = try await contacts.create(NewContact(name: "New One", emails: ["new@example.com"]))
            let next = try #require(try await contacts.events(after: first.seq + 1).items.first)
            #expect(next.seq == first.seq + 2)
        }
    }

    @Test func anHTTPSWebhookIsDeliveredOverTLSWithTheTrustedAuthority() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "concierge-hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let authority = try TestCertificate.authority("Concierge Test CA")
        let caFile = folder.appendingPathComponent("ca.pem").path
        try authority.writePEM(to: caFile)
        let receiver = try TLSTestServer(certificate: authority.issue(for: ["127.0.0.1", "localhost"])) { _ in (204, "")
        }
        defer { receiver.stop() }
        var environment = Self.fastRetries
        environment["CONCIERGE_CA_FILE"] = caFile
        try await withServices([.contacts], environment: environment) { cluster in
            let contacts = cluster.contacts(as: .administrator)
            let webhook = try await contacts.webhooks.create(
                NewWebhook(url: "https://localhost:\(receiver.port)/hooks/contacts", types: ["contact.*"]))
            _ = try await contacts.create(NewContact(name: "Tess", emails: ["tess@example.com"]))
            _ = try await contacts.create(NewContact(name: "Uma", emails: ["uma@example.com"]))
            #expect(await eventually(within: 10) { receiver.bodies.count == 2 })
            #expect(receiver.targets == ["/hooks/contacts", "/hooks/contacts"])
            #expect(receiver.acceptedCount == 1, "one pooled TLS connection")
            let delivered = receiver.bodies.compactMap { try? JSONDecoder().decode(EventEnvelope.self, from: Data($0)) }
            #expect(delivered.map(\.type) == ["contact.created", "contact.created"])
            #expect(delivered.map { $0[data: "name"] } == ["Tess", "Uma"])
            let log = try await contacts.webhooks.deliveries(webhook.id).items
            #expect(log.map(\.status) == [.succeeded, .succeeded])
        }
    }
}
