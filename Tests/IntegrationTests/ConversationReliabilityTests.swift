import ConciergeClients
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Durable routing, draining notices and crash safety of the inbound pipeline (SPEC §2
/// reliability promises, §4 step 5, §5 queueing and draining).
@Suite struct ConversationReliabilityTests {
    @Test func messagesAcceptedWhileRoutingIsDownAreRoutedWhenItReturns() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()
            let routing = try cluster.service(.routing)
            await routing.stop()

            var ids: [String] = []
            for i in 0..<3 {
                let answer = try await kit.send(.email, from: "patient\(i)@example.com", body: "anyone there?")
                #expect(answer.code == 201)
                let result = try #require(answer.result)
                #expect(result.routingState == .pending)
                #expect(result.assigneeId == nil)
                #expect(result.status == .waiting)
                ids.append(try #require(result.conversationId))
            }
            // A reply to one of them still threads while routing is down.
            let threaded = try await kit.send(.email, from: "patient0@example.com", body: "hello?")
            #expect(threaded.code == 200)
            #expect(threaded.result?.conversationId == ids[0])
            for id in ids { #expect(try await kit.conversations.conversation(id).routingState == .pending) }

            try await routing.start()
            for id in ids {
                let routed = try await kit.conversation(id, within: 20) {
                    $0.routingState == .assigned || $0.routingState == .queued
                }
                #expect(routed.routingState == .assigned)
                #expect(routed.assigneeId == ada.id)
                #expect(routed.inboxId == support.id)
            }
            // Each was routed once, however many times delivery was attempted.
            #expect(try await kit.load(ada.id).email == 3)
        }
    }

    @Test func aQueuedConversationIsAssignedWhenCapacityIsReleased() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk(capacity: PartialCounts(email: 1))
            let first = try await kit.routed(try await kit.inbound(.email, from: "early@example.com", expecting: 201))
            #expect(first.assigneeId == ada.id)
            let second = try await kit.routed(try await kit.inbound(.email, from: "late@example.com", expecting: 201))
            let secondID = second.id
            #expect(second.routingState == .queued)
            #expect(second.assigneeId == nil)
            #expect(second.inboxId == support.id)
            #expect(try await kit.routing.queue(support.id).waiting == [secondID])

            _ = try await kit.acting(as: ada).close(first.id)
            let drained = try await kit.conversation(secondID, within: 20) { $0.routingState == .assigned }
            #expect(drained.routingState == .assigned)
            #expect(drained.assigneeId == ada.id)
            #expect(drained.queueId == nil)
            #expect(try await kit.load(ada.id).email == 1)
            #expect(try await kit.routing.queue(support.id).waiting?.isEmpty == true)
            #expect(try await kit.allConversations(.init(status: .waiting, assigneeId: ada.id)).map(\.id) == [secondID])
        }
    }

    @Test func availabilityChangeDrainsTheQueueIntoConversations() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            _ = try await kit.routing.setAvailability(ada.id, .busy)
            var ids: [String] = []
            for i in 0..<3 {
                let result = try await kit.routed(
                    try await kit.inbound(.email, from: "waiter\(i)@example.com", expecting: 201))
                #expect(result.routingState == .queued)
                ids.append(result.id)
            }
            _ = try await kit.routing.setAvailability(ada.id, .available)
            for id in ids {
                let assigned = try await kit.conversation(id, within: 20) { $0.assigneeId == ada.id }
                #expect(assigned.assigneeId == ada.id)
                #expect(assigned.routingState == .assigned)
            }
        }
    }

    /// SPEC §2: once inbound answers 2xx the message is on disk and will be routed, even across a
    /// SIGKILL; a connector's retry with the same external id is stored once.
    @Test(.timeLimit(.minutes(2)))
    func sigkillDuringABurstLosesAndDuplicatesNothing() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let support = try await kit.inbox("Support", defaultFor: Channel.allCases)
            for name in ["Ada", "Bob"] {
                _ = try await kit.agent(name, inboxes: [support.id], capacity: PartialCounts(email: 1000))
            }
            let total = 1000
            let senders = 8
            let acknowledged = SharedCounter()
            let retried = SharedCounter()
            let started = Date()

            let killer = Task {
                while acknowledged.current < 300 && Date().timeIntervalSince(started) < 40 {
                    try await Task.sleep(nanoseconds: 2_000_000)
                }
                let acknowledgedAtKill = acknowledged.current
                try await cluster.service(.conversations).restart(hard: true)
                return acknowledgedAtKill
            }

            let failures = try await withThrowingTaskGroup(of: [String].self) { group in
                for sender in 0..<senders {
                    group.addTask {
                        var failures: [String] = []
                        for i in stride(from: sender, to: total, by: senders) {
                            var attempt = 0
                            while true {
                                let answer = try? await kit.send(
                                    .email, from: "burst\(i % 40)@example.com", body: "burst message \(i)",
                                    externalId: "burst-\(i)")
                                if let answer, (200..<300).contains(answer.code) {
                                    acknowledged.increment()
                                    break
                                }
                                if let answer, answer.code < 500 {
                                    failures.append(
                                        "message \(i): \(answer.code) \(String(decoding: answer.body, as: UTF8.self))")
                                    break
                                }
                                attempt += 1
                                retried.increment()
                                if Date().timeIntervalSince(started) > 50 {
                                    failures.append("message \(i): no 2xx after \(attempt) attempts")
                                    break
                                }
                                try await Task.sleep(nanoseconds: UInt64(min(200, 10 * attempt)) * 1_000_000)
                            }
                        }
                        return failures
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            let acknowledgedAtKill = try await killer.value
            #expect(
                acknowledgedAtKill >= 300 && acknowledgedAtKill < total,
                "killed after \(acknowledgedAtKill) acknowledgements")
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(acknowledged.current == total)
            // The kill really happened mid-burst: some sends had to be retried.
            #expect(retried.current > 0)

            let conversations = try await kit.allConversations()
            #expect(conversations.count == 40)
            var bodies: [String] = []
            for conversation in conversations {
                bodies += try await kit.messages(conversation.id).filter { $0.direction == .inbound }.map(\.body)
            }
            #expect(bodies.count == total)
            #expect(Set(bodies) == Set((0..<total).map { "burst message \($0)" }))

            let routed = try await eventually(within: 20) {
                try await kit.allConversations().allSatisfy {
                    $0.routingState == .assigned || $0.routingState == .queued
                }
            }
            let states = try await kit.allConversations().map(\.routingState)
            #expect(routed, "routing states: \(Dictionary(grouping: states, by: \.rawValue).mapValues(\.count))")
            let loads = try await kit.routing.agents().items.map(\.load.email).reduce(0, +)
            #expect(loads == conversations.count)
            #expect(Date().timeIntervalSince(started) < 60)
        }
    }
}
