import ConciergeClients
import ConciergeModels
import Foundation
import Testing

@testable import ConversationsService

/// Bodies from the other services are checked like public ones, and a dependency's failure never
/// reaches a problem detail in its own words.
@Suite struct InternalInputTests {
    @Test func dependencyFailuresSayNothingTheOtherSideWrote() {
        let leaked = #"DecodingError.keyNotFound(CodingKeys(stringValue: "type", intValue: nil))"#
        let answered = ServiceError.problem(Problem(status: 500, title: "HTTP 500", detail: leaked))
        #expect(answered.summary == "it answered HTTP 500")
        #expect(
            ServiceError.invalidResponse("the answer is not the expected Agent JSON").summary
                == "the answer is not the expected Agent JSON")
        #expect(
            ConversationError.dependencyFailed(service: "contacts", detail: answered.summary).problem.detail?.contains(
                "Decoding") == false)
    }

    @Test func internalRoutingDecisionsNeedDecidedAtAndRealIDs() throws {
        var decision = RouteResult(
            conversationId: "c", routingState: .assigned, assigneeId: "ghost", inboxId: nil, queueId: nil, replies: [],
            trace: [],
            version: 1, decidedAt: "")
        #expect(throws: ConversationError.self) { try InputCheck.routingDecision(decision) }
        decision.decidedAt = "2026-11-22T14:05:09.123Z"
        try InputCheck.routingDecision(decision)
        decision.assigneeId = ""
        #expect(throws: ConversationError.self) { try InputCheck.routingDecision(decision) }
        let snapshot = Contact(id: "c", name: "", createdAt: "2026-11-22T14:05:09.123Z", updatedAt: "")
        #expect(throws: ConversationError.self) { try InputCheck.snapshot(snapshot) }
        #expect(throws: ConversationError.self) {
            try InputCheck.inbound(InboundRequest(channel: .email, from: "x\u{1F}y@corp.example", body: "hi"))
        }
        try InputCheck.inbound(InboundRequest(channel: .email, from: "a@corp.example", body: "line one\r\n\tline two"))
    }
}
