import ConciergeModels
import Testing

@testable import RoutingService

/// The engine placing what a workflow run decided (SPEC §5): the decision carries the run's trace,
/// replies and tags, then the placement.
extension WorkflowRunnerTests {
    @Test func theEnginePlacesWhatTheRunDecidedWithItsTraceRepliesAndTags() async throws {
        try await RoutingEngineFixture.with { fixture in
            let support = try await fixture.inbox("Support", defaultFor: [.email], strategy: .roundRobin)
            let a = try await fixture.agent("A", inboxes: [support])
            let b = try await fixture.agent("B", inboxes: [support])
            _ = try await fixture.engine.transfer("x-1", AssignRequest(agentId: a.id, channel: .messaging))
            try fixture.publish(
                """
                {"start": "tag", "steps": [
                  {"id": "tag", "type": "tag", "tags": ["Billing"], "next": "greet"},
                  {"id": "greet", "type": "reply", "body": "Hi {{contact.name}}", "next": "place"},
                  {"id": "place", "type": "assign", "to": {"inbox": "\(support.id)", "strategy": "least_busy"}}]}
                """)
            let result = try await fixture.route("c-1", .email)
            #expect(result.routingState == .assigned)
            #expect(result.assigneeId == b.id)  // least busy overrides the inbox's round robin
            #expect(result.tags == ["Billing"])
            #expect(result.replies == [Reply(body: "Hi Kim")])
            #expect(
                result.trace == [
                    TraceStep(step: "event", outcome: "new email message"),
                    TraceStep(step: "workflow", outcome: "version 1 starts at tag"),
                    TraceStep(step: "tag", outcome: "tagged Billing"),
                    TraceStep(step: "greet", outcome: "replied"),
                    TraceStep(step: "place", outcome: "assign to inbox \(support.id) by least_busy"),
                    TraceStep(
                        step: "select", outcome: "\(b.id) chosen by least_busy in inbox \(support.id) (load 0/10 email)"
                    ),
                ])
            #expect(try fixture.decision("c-1") == result)
        }
    }

    @Test func anAgentTargetTakesTheConversationWithoutAnAvailabilityCheck() async throws {
        try await RoutingEngineFixture.with { fixture in
            let support = try await fixture.inbox("Support", defaultFor: [.voice])
            let manager = try await fixture.agent(
                "Manager", inboxes: [support], capacity: PartialCounts(voice: 0), availability: .offline)
            try fixture.publish(
                #"{"start": "a", "steps": [{"id": "a", "type": "assign", "to": {"agent": "\#(manager.id)"}}]}"#)
            let result = try await fixture.route("v-1", .voice)
            #expect(result.assigneeId == manager.id)
            #expect(result.inboxId == support.id)
            #expect(result.trace.last == TraceStep(step: "assign", outcome: "assigned to agent \(manager.id)"))
            #expect(try fixture.load(manager.id).voice == 1)
        }
    }

    @Test func aPausedRunWaitsForTheCustomerThenPlacesTheConversation() async throws {
        try await RoutingEngineFixture.with { fixture in
            let orders = try await fixture.inbox("Orders")
            let support = try await fixture.inbox("Support", defaultFor: [.messaging])
            let clerk = try await fixture.agent("Clerk", inboxes: [orders])
            _ = try await fixture.agent("Helper", inboxes: [support])
            try fixture.publish(Self.askOrder(orders: orders.id, support: support.id))
            let asked = try await fixture.route("m-1", .messaging)
            #expect(asked.routingState == .awaitingCustomer)
            #expect(asked.assigneeId == nil)
            #expect(asked.replies == [Reply(body: "Your order number, Kim?")])
            // The answer arrives as the conversation's next message.
            let answered = try await fixture.route(
                "m-1", .messaging, body: "a-77", event: .message, messageID: "m-1-answer")
            #expect(answered.routingState == .assigned)
            #expect(answered.assigneeId == clerk.id)
            #expect(answered.inboxId == orders.id)
            #expect(answered.replies == [Reply(body: "Thanks, looking up a-77.")])
            #expect(answered.steps == ["event", "ask", "check", "orders", "select"])
            // Once placed, further messages leave the conversation where it is.
            let later = try await fixture.route(
                "m-1", .messaging, body: "any news?", event: .message, messageID: "m-1-later")
            #expect(later.outcome("unchanged") == "already assigned")
        }
    }

    /// A conversation awaiting the customer's answer that an agent takes by hand (`/assign`) is the
    /// agent's: like a release or a move, the transfer ends the paused run (it used to stay, so the
    /// customer's next message resumed it and the workflow took the conversation away from the agent,
    /// to Clerk here, unasked).
    @Test func aManualTransferEndsAPausedRun() async throws {
        try await RoutingEngineFixture.with { fixture in
            let orders = try await fixture.inbox("Orders")
            let support = try await fixture.inbox("Support", defaultFor: [.messaging])
            let clerk = try await fixture.agent("Clerk", inboxes: [orders])
            let helper = try await fixture.agent("Helper", inboxes: [support])
            try fixture.publish(Self.askOrder(orders: orders.id, support: support.id))
            #expect(try await fixture.route("m-1", .messaging).routingState == .awaitingCustomer)
            let taken = try await fixture.engine.transfer("m-1", AssignRequest(agentId: helper.id, channel: .messaging))
            #expect(taken.assigneeId == helper.id)

            let next = try await fixture.route("m-1", .messaging, body: "a-1", event: .message, messageID: "m-1-next")
            let helperLoad = try fixture.load(helper.id).messaging
            let clerkLoad = try fixture.load(clerk.id).messaging
            #expect(next.assigneeId == helper.id)
            #expect(helperLoad == 1)
            #expect(clerkLoad == 0)
        }
    }
}
