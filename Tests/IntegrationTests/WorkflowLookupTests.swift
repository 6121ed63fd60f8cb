import ConciergeClients
import ConciergeJSON
import ConciergeLogging
import ConciergeModels
import Foundation
import HTTPServer
import TestSupport
import Testing

/// Workflow lookups against a CRM that is down or slow (SPEC §5 `lookup`, §7 sources): the run
/// takes `onError` within the 2 s ceiling and the conversation is routed, never stuck.
@Suite struct WorkflowLookupTests {
    /// A lookup whose three outcomes go to three inboxes.
    static func lookupWorkflow(source: String, found: Inbox, notFound: Inbox, down: Inbox) -> String {
        #"""
        {"start": "lookup", "steps": [
          {"id": "lookup", "type": "lookup", "by": "email", "source": "\#(source)", "map": {"First": "$.list[0]", "Tier": "$.tier"},
           "next": "greet", "onNotFound": "notFound", "onError": "crmDown"},
          {"id": "greet", "type": "reply", "body": "Welcome back, {{var.Tier}} member ({{var.First}}).", "next": "found"},
          {"id": "found", "type": "assign", "to": {"inbox": "\#(found.id)"}},
          {"id": "notFound", "type": "assign", "to": {"inbox": "\#(notFound.id)"}},
          {"id": "crmDown", "type": "assign", "to": {"inbox": "\#(down.id)"}}]}
        """#
    }

    @Test func crmLookupDownTakesOnErrorAndStillRoutes() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = WorkflowKit(cluster)
            _ = try await kit.inbox("Support", defaultFor: Channel.allCases)
            let found = try await kit.inbox("Found")
            let notFound = try await kit.inbox("Not found")
            let down = try await kit.inbox("CRM down")
            let dana = try await kit.agent("Dana", inboxes: [down.id])
            _ = try await kit.crm.upsert(
                CustomerInput(email: "known@example.com", customerType: "VIP", loyaltyStatus: "gold"))
            try await kit.activate(
                Self.lookupWorkflow(source: "directory", found: found, notFound: notFound, down: down))
            // While the CRM is up, the directory answers: found and not found.
            let known = try await kit.placed(try await kit.send(.email, from: "known@example.com").conversationId)
            #expect(known.inboxId == found.id)
            let stranger = try await kit.placed(try await kit.send(.email, from: "stranger@example.com").conversationId)
            #expect(stranger.inboxId == notFound.id)

            try await cluster.service(.crmLookup).stop()
            let sent = try await kit.send(.email, from: "known2@example.com")
            let placed = try await kit.placed(sent.conversationId)
            #expect(placed.inboxId == down.id)
            #expect(placed.assigneeId == dana.id)
            #expect(placed.routingState == .assigned)
            #expect(try await kit.tracedSteps(sent.conversationId).contains("crmDown"))
        }
    }

    @Test func slowExternalCRMTakesOnErrorWithinTwoSeconds() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            try await withFakeSource { port in
                let kit = WorkflowKit(cluster)
                _ = try await kit.inbox("Support", defaultFor: Channel.allCases)
                let found = try await kit.inbox("Found")
                let notFound = try await kit.inbox("Not found")
                let down = try await kit.inbox("CRM down")
                _ = try await kit.agent("Fay", inboxes: [found.id])
                let dana = try await kit.agent("Dana", inboxes: [down.id])
                // The CRM-lookup service would wait 10 s for these: routing's own 2 s ceiling must act.
                for (name, path) in [("quickcrm", "/fast"), ("slowcrm", "/slow")] {
                    _ = try await kit.crm.putSource(
                        name,
                        SourceConfig(
                            urlTemplate: "http://127.0.0.1:\(port)\(path)?email={{email}}", timeoutMs: 10_000,
                            cacheTtlSeconds: 1))
                }
                // A quick source answers, and its fields reach variables (`$.list[0]`, `$.tier`).
                try await kit.activate(
                    Self.lookupWorkflow(source: "quickcrm", found: found, notFound: notFound, down: down))
                let quick = try await kit.send(.email, from: "quick@example.com")
                #expect(quick.replies.map(\.body) == ["Welcome back, gold member (first)."])
                #expect(try await kit.placed(quick.conversationId).inboxId == found.id)

                try await kit.activate(
                    Self.lookupWorkflow(source: "slowcrm", found: found, notFound: notFound, down: down))
                let started = Date()
                let sent = try await kit.send(.email, from: "patient@example.com")
                let answered = Date().timeIntervalSince(started)
                #expect(answered < 4.5, "the inbound answer took \(answered) s")
                let placed = try await kit.placed(sent.conversationId)
                #expect(placed.inboxId == down.id)
                #expect(placed.assigneeId == dana.id)
                let decision = try await kit.decision(sent.conversationId)
                #expect(decision.trace.map(\.step).contains("crmDown"))
                let decided = try #require(Self.date(decision.decidedAt), "decidedAt \(decision.decidedAt)")
                #expect(
                    decided.timeIntervalSince(started) < 4.5,
                    "routing decided \(decided.timeIntervalSince(started)) s after the message")
            }
        }
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// A fake external CRM on loopback, served by our own `HTTPServer`: `/fast` answers at once,
/// `/slow` after 5 s. `body` gets its port; the server is always shut down.
private func withFakeSource<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
    let router = Router()
    let record = JSONValue.object(["tier": .string("gold"), "list": .array([.string("first"), .string("second")])])
    router.get("/fast", access: .open) { _, _ in try .json(record) }
    router.get("/slow", access: .open) { _, _ in
        try? await Task.sleep(for: .seconds(5))
        return try .json(record)
    }
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
    configuration.shutdownGraceSeconds = 1
    let server = HTTPServer(
        configuration, router: router, logger: Logger(service: "fake-source", level: .error, sink: MemorySink()),
        signer: nil)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let result = try await body(try await server.waitUntilListening())
            server.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}
