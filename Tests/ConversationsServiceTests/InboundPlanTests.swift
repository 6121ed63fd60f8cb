import ConciergeModels
import Testing

@testable import ConversationsService

/// `InboundPlan`: threading, reopening, spam and the route request of one inbound message.
@Suite struct InboundPlanTests {
    static let now = "2026-12-04T09:00:00.000Z"
    static let contact = Contact(
        id: "k1", name: "Ada", emails: ["ada@example.com"], tags: ["gold"],
        dedicatedHero: DedicatedHero(type: .agent, id: "grace"),
        createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z")

    static func existing(_ status: ConversationStatus, routing: RoutingState = .assigned) -> Conversation {
        Conversation(
            id: "c1", contactId: "k1", channel: .email, inboxId: "support", assigneeId: "grace", queueId: nil,
            routingState: routing,
            status: status, subject: "Order", tags: [], spam: false, createdAt: "2026-12-01T10:00:00.000Z",
            updatedAt: "2026-12-01T10:00:00.000Z", closedAt: status == .closed ? "2026-12-02T10:00:00.000Z" : nil,
            firstResponseAt: nil)
    }

    static func plan(
        _ input: InboundRequest = InboundRequest(
            channel: .email, from: "ada@example.com", subject: "Hello", body: "Hi there"),
        contactID: String = "k1", existing: Conversation? = nil, spam: Bool = false
    ) -> InboundPlan {
        var ids = ["id-1", "id-2"].makeIterator()
        return InboundPlan(
            input, contact: contact, contactID: contactID, existing: existing, judgedSpam: spam, now: now,
            makeID: { ids.next() ?? "id-more" })
    }

    @Test func aFirstMessageStartsAWaitingConversationRoutedAsNew() throws {
        let plan = Self.plan()
        guard case .create(let conversation) = plan.thread else {
            Issue.record("expected a new conversation, got \(plan.thread)")
            return
        }
        #expect(conversation.id == "id-1" && plan.conversationID == "id-1")
        #expect(conversation.status == .waiting && conversation.routingState == .pending)
        #expect(conversation.subject == "Hello" && conversation.contactId == "k1" && conversation.channel == .email)
        #expect(plan.isNewConversation)
        #expect(plan.message.id == "id-2" && plan.message.direction == .inbound && plan.message.body == "Hi there")
        #expect(plan.message.author == MessageAuthor(type: .contact, id: "k1"))
        let route = try #require(plan.route)
        #expect(
            route.event == .new && route.conversationId == "id-1" && route.channel == .email && route.inboxId == nil)
        #expect(route.message.id == "id-2" && route.message.body == "Hi there")
        #expect(route.contact.dedicatedHero == DedicatedHero(type: .agent, id: "grace"), "routing sees the hero")
        #expect(!plan.spam && !plan.releaseFromRouting)
    }

    @Test func anEmptySubjectIsNoSubject() {
        let plan = Self.plan(InboundRequest(channel: .messaging, from: "+4512345678", subject: "", body: "hej"))
        guard case .create(let conversation) = plan.thread else {
            Issue.record("expected a new conversation")
            return
        }
        #expect(conversation.subject == nil)
    }

    @Test func aMessageToAnOpenConversationIsAppendedAndNotRoutedAgain() {
        for status in [ConversationStatus.open, .waiting] {
            let plan = Self.plan(existing: Self.existing(status))
            #expect(plan.thread == .append(id: "c1"))
            #expect(plan.route == nil, "an assigned \(status) conversation keeps its agent")
            #expect(!plan.isNewConversation)
            #expect(plan.message.conversationId == "c1" && plan.message.id == "id-1")
        }
    }

    @Test func anAnswerToAWorkflowQuestionResumesTheWorkflow() {
        let plan = Self.plan(existing: Self.existing(.waiting, routing: .awaitingCustomer))
        #expect(plan.thread == .append(id: "c1"))
        #expect(plan.route?.event == .message)
    }

    @Test func aMessageToAClosedConversationReopensItAndRoutesItAgain() {
        let plan = Self.plan(existing: Self.existing(.closed))
        #expect(plan.thread == .reopen(id: "c1"))
        #expect(plan.route?.event == .reopened)
        #expect(plan.route?.conversationId == "c1")
    }

    @Test func aMergedContactsMessageIsFiledAndRoutedUnderTheSurvivor() {
        let plan = Self.plan(contactID: "k-survivor")
        guard case .create(let conversation) = plan.thread else {
            Issue.record("expected a new conversation")
            return
        }
        #expect(conversation.contactId == "k-survivor")
        #expect(plan.message.author.id == "k-survivor")
        #expect(plan.route?.contact.id == "k-survivor")
    }

    @Test func spamIsStoredButNeverRoutedAndAnEarlierRoutingIsReleased() {
        let fresh = Self.plan(spam: true)
        #expect(fresh.spam && fresh.route == nil)
        #expect(!fresh.releaseFromRouting, "a new conversation was never routed")
        let threaded = Self.plan(existing: Self.existing(.closed), spam: true)
        #expect(threaded.spam && threaded.route == nil)
        #expect(threaded.releaseFromRouting)
    }
}
