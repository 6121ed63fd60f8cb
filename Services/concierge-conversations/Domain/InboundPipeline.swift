import ConciergeClients
import ConciergeCore
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import Outbox
import ServiceRuntime

/// `POST /v1/inbound` (SPEC §4): resolve the contact, drop a blocked contact's message, thread it,
/// store it together with its routing request, route, and answer. Once this answers 2xx the message
/// is on disk and its routing request is in the outbox, so it will be routed even if routing is down.
struct InboundPipeline: Sendable {
    let store: ConversationStore
    let contacts: ContactsClient
    let outbox: Outbox
    let metrics: Metrics
    let spamFilter: SpamFilter
    /// Seconds to wait for routing before answering `pending`; default 2.
    var routingWait: Double = 2
    /// How long the spam filter takes to judge one message (the target: ≤ 100 µs for 2 KB).
    let classifySeconds: DomainHistogram

    /// Bounds of `concierge_spam_classify_seconds`: 10 µs to 10 ms, finest around 100 µs.
    static let classifyBuckets: [Double] = [
        0.00001, 0.00002, 0.00003, 0.00004, 0.00005, 0.00006, 0.00007, 0.00008, 0.00009, 0.0001, 0.000125, 0.00015,
        0.0002, 0.0003, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    ]

    init(store: ConversationStore, contacts: ContactsClient, outbox: Outbox, metrics: Metrics, spamFilter: SpamFilter) {
        self.store = store
        self.contacts = contacts
        self.outbox = outbox
        self.metrics = metrics
        self.spamFilter = spamFilter
        classifySeconds = metrics.histogram(
            "concierge_spam_classify_seconds", help: "Time the spam filter takes to judge one inbound message.",
            buckets: Self.classifyBuckets)
        metrics.declare(
            "concierge_inbound_messages_total", help: Self.storedHelp,
            labelSets: Channel.allCases.map { [("channel", $0.rawValue)] })
        metrics.declare("concierge_inbound_dropped_total", help: Self.droppedHelp)
        metrics.declare("concierge_spam_detected_total", help: Self.spamHelp)
    }

    static let storedHelp = "Inbound messages stored."
    static let droppedHelp = "Inbound messages dropped (blocked contact)."
    static let spamHelp = "Inbound messages the filter judged spam."

    struct Outcome: Sendable {
        var result: InboundResult
        var created: Bool
    }

    func handle(_ input: InboundRequest) async throws -> Outcome {
        let externalID = input.externalId.flatMap { $0.isEmpty ? nil : $0 }
        if let externalID, let earlier = try replay(channel: input.channel, externalID: externalID) { return earlier }
        let contact = try await resolve(input)
        if contact.blocked {
            let outcome = try store.recordDropped(input, contact: contact, externalID: externalID)
            metrics.increment("concierge_inbound_dropped_total", help: Self.droppedHelp)
            return outcome
        }
        // Judged on the body, as the filter is trained on message bodies.
        let started = Monotonic.nanoseconds()
        let judgedSpam = spamFilter.isSpam(input.body)
        classifySeconds.observe(Double(Monotonic.nanoseconds() - started) / 1e9)
        let recorded = try await store.recordInbound(
            input, contact: contact, externalID: externalID, judgedSpam: judgedSpam, settleWithin: routingWait)
        if judgedSpam && !recorded.replayed {
            metrics.increment("concierge_spam_detected_total", help: Self.spamHelp)
        }
        if recorded.replayed { return try outcome(recorded) }
        metrics.increment(
            "concierge_inbound_messages_total", labels: [("channel", input.channel.rawValue)], help: Self.storedHelp)
        // Ask routing, and apply its answer to the conversation in the transaction that settles the
        // request. If routing does not answer in time, the dispatcher retries with backoff until it
        // does, and applies the answer then, the same way.
        if let entry = recorded.routeEntry {
            _ = await outbox.settle(
                entry, timeout: routingWait, applying: RoutingAnswers.apply(recordingIn: store.events))
        }
        return try outcome(recorded)
    }

    private func resolve(_ input: InboundRequest) async throws -> Contact {
        do {
            return try await contacts.resolve(
                ResolveRequest(channel: input.channel, address: input.from, name: input.name)
            ).contact
        } catch {
            switch error {
            case .problem(let problem) where problem.status == 400 || problem.status == 422:
                throw ConversationError.invalid(
                    field: "from",
                    message: problem.detail ?? "from is not a valid address for \(input.channel.rawValue).")
            case .unreachable(let why):
                throw ConversationError.dependencyDown(service: "contacts", detail: why.description)
            case .problem(let problem) where problem.status == 503:
                throw ConversationError.dependencyDown(service: "contacts", detail: problem.detail ?? "unavailable")
            default: throw ConversationError.dependencyFailed(service: "contacts", detail: error.summary)
            }
        }
    }

    private func replay(channel: Channel, externalID: String) throws -> Outcome? {
        guard let key = try store.inboundKey(channel: channel, externalID: externalID) else { return nil }
        return try outcome(key)
    }

    private func outcome(_ recorded: ConversationStore.Recorded) throws -> Outcome {
        guard let conversationID = recorded.conversationID, let messageID = recorded.messageID else {
            return Outcome(
                result: InboundResult(
                    conversationId: nil, messageId: nil, contactId: recorded.contactID, status: nil, inboxId: nil,
                    assigneeId: nil,
                    queueId: nil, routingState: nil, spam: false, dropped: true, reason: "contact_blocked", replies: []),
                created: false)
        }
        // One read transaction for both: each begins on a reader whose page cache a commit emptied.
        let (conversation, replies) = try store.conversationWithReplies(conversationID, replyTo: messageID)
        return Outcome(
            result: InboundResult(
                conversationId: conversation.id, messageId: messageID, contactId: conversation.contactId,
                status: conversation.status,
                inboxId: conversation.inboxId, assigneeId: conversation.assigneeId, queueId: conversation.queueId,
                routingState: conversation.routingState, spam: conversation.spam, dropped: false,
                replies: replies),
            created: recorded.created)
    }
}
