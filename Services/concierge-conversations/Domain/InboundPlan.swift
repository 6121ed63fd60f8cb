import ConciergeModels

/// What one inbound message does (threading, reopening, spam, routing), decided from the state it
/// needs and applied by `ConversationStore.recordInbound` in one transaction. Pure: no clock, no ids,
/// no storage of its own — they come in as arguments.
struct InboundPlan: Equatable, Sendable {
    enum Thread: Equatable, Sendable {
        /// No conversation to thread into: a new one, `waiting` and `pending` routing.
        case create(Conversation)
        /// A closed conversation reopens (`waiting` again, its closing time cleared).
        case reopen(id: String)
        /// An open or waiting conversation gets the message and is `waiting` again.
        case append(id: String)
    }

    var thread: Thread
    var conversationID: String
    /// The message, as stored.
    var message: Message
    /// The address the message came from: where replies to the conversation go from now on.
    var address: String
    /// The filter judged the message spam: the conversation goes to spam, unrouted.
    var spam: Bool
    /// A conversation that was routed before becomes spam: routing releases it.
    var releaseFromRouting: Bool
    /// What routing is asked, if anything.
    var route: RouteRequest?

    var isNewConversation: Bool {
        if case .create = thread { true } else { false }
    }

    /// - Parameters:
    ///   - contactID: the contact the message belongs to: the resolved contact, or the one it was
    ///     merged into.
    ///   - existing: the conversation the message threads into (`ConversationStore.thread`), if any.
    ///   - now: the time to stamp; `makeID` makes the new conversation's and message's ids.
    init(
        _ input: InboundRequest, contact: Contact, contactID: String, existing: Conversation?, judgedSpam: Bool,
        now: String,
        makeID: () -> String
    ) {
        var event: RouteEvent?
        if let existing {
            conversationID = existing.id
            switch existing.status {
            case .closed:
                thread = .reopen(id: existing.id)
                event = .reopened
            case .open, .waiting:
                thread = .append(id: existing.id)
                // A workflow asked the customer something: the answer resumes it.
                if existing.routingState == .awaitingCustomer { event = .message }
            }
        } else {
            let conversation = Conversation(
                id: makeID(), contactId: contactID, channel: input.channel, inboxId: nil, assigneeId: nil, queueId: nil,
                routingState: .pending, status: .waiting, subject: input.subject.flatMap { $0.isEmpty ? nil : $0 },
                tags: [],
                spam: false, createdAt: now, updatedAt: now, closedAt: nil, firstResponseAt: nil)
            conversationID = conversation.id
            thread = .create(conversation)
            event = .new
        }
        spam = judgedSpam
        address = input.from
        releaseFromRouting = judgedSpam && existing != nil
        message = Message(
            id: makeID(), conversationId: conversationID, direction: .inbound,
            author: MessageAuthor(type: .contact, id: contactID),
            body: input.body, createdAt: now)
        if let event, !judgedSpam {
            var routeContact = RouteContact(contact)
            routeContact.id = contactID
            route = RouteRequest(
                conversationId: conversationID, event: event, channel: input.channel, inboxId: nil,
                contact: routeContact,
                message: RouteMessage(id: message.id, body: input.body))
        } else {
            route = nil
        }
    }
}
