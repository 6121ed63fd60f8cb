import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import Glibc
import TestSupport
import Testing

/// `concierge events` against a real suite: the real CLI reading the real services' feeds and streams.
@Suite struct EventsCLITests {
    /// The CLI's environment for `cluster`: its URLs and its secret, nothing else that steers it.
    private static func environment(_ cluster: TestCluster) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CONCIERGE_JWT_SECRET_FILE"] = nil
        environment["CONCIERGE_JWT_SECRET"] = cluster.secret
        for kind in ServiceKind.allCases {
            environment[kind.urlVariable] = cluster.url(kind)
            environment[kind.urlVariable.replacingOccurrences(of: "_URL", with: "_PORT")] = nil
        }
        return environment
    }

    /// Each service's feed as its pages' JSON text, and decoded.
    private static func feed(_ cluster: TestCluster, _ kind: ServiceKind, types: String? = nil) async throws
        -> (text: String, events: [EventEnvelope])
    {
        let query = "?limit=500" + (types.map { "&types=\($0)" } ?? "")
        let answer = try await cluster.raw(kind, token: cluster.token(.administrator)).raw("GET", "/v1/events" + query)
        #expect(answer.status == 200)
        let page = try JSONDecoder().decode(Page<EventEnvelope>.self, from: Data(answer.body))
        #expect(page.nextCursor == nil, "one page holds the test's events")
        return (String(decoding: answer.body, as: UTF8.self), page.items)
    }

    /// Events in both contacts and conversations, interleaved in time: a contact created, an inbound
    /// message (conversations' events, and contacts' for its new sender), another contact.
    private static func interleavedDay(_ cluster: TestCluster) async throws {
        let kit = ConversationKit(cluster)
        _ = try await kit.desk()
        _ = try await kit.contacts.create(NewContact(name: "Before", emails: ["before@example.com"]))
        _ = try await kit.routed(try await kit.inbound(.email, from: "nina@example.com", expecting: 201))
        _ = try await kit.contacts.create(NewContact(name: "After", emails: ["after@example.com"]))
    }

    /// What the CLI printed, read back.
    private static func decoded(_ lines: [Substring]) throws -> [EventEnvelope] {
        try lines.map { try JSONDecoder().decode(EventEnvelope.self, from: Data($0.utf8)) }
    }

    @Test func eventsFromEveryServiceComeOutMergedInTimeOrderEachAsItsServiceSentIt() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            try await Self.interleavedDay(cluster)
            let contacts = try await Self.feed(cluster, .contacts)
            let conversations = try await Self.feed(cluster, .conversations)
            let routing = try await Self.feed(cluster, .routing)
            let crm = try await Self.feed(cluster, .crmLookup)

            let result = try await CLIProcess.run(["events"], environment: Self.environment(cluster))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty)
            let lines = result.stdout.split(separator: "\n")
            let printed = try Self.decoded(lines)
            let expected = (contacts.events + conversations.events + routing.events + crm.events).sorted {
                ($0.occurredAt, $0.service, $0.seq) < ($1.occurredAt, $1.service, $1.seq)
            }
            #expect(printed == expected)
            // Merged, not one feed after the other: contacts' events come before and after conversations'.
            let services = printed.map(\.service)
            let firstConversation = try #require(services.firstIndex(of: "conversations"))
            let lastConversation = try #require(services.lastIndex(of: "conversations"))
            #expect(services[..<firstConversation].contains("contacts"))
            #expect(services[(lastConversation + 1)...].contains("contacts"))
            // Each line is the event's JSON as the service wrote it, not decoded and encoded again.
            let pages = [
                "contacts": contacts.text, "conversations": conversations.text, "routing": routing.text,
                "crm-lookup": crm.text,
            ]
            for (line, event) in zip(lines, printed) {
                #expect(pages[event.service]?.contains(String(line)) == true, "\(line)")
            }

            let one = try await CLIProcess.run(
                ["events", "--service", "contacts"], environment: Self.environment(cluster))
            #expect(one.status == 0, "\(one.stderr)")
            #expect(try Self.decoded(one.stdout.split(separator: "\n")) == contacts.events)
        }
    }

    @Test func typesFilterTheEventsOfEveryService() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            try await Self.interleavedDay(cluster)
            let result = try await CLIProcess.run(
                ["events", "--types", "conversation.*,contact.created"], environment: Self.environment(cluster))
            #expect(result.status == 0, "\(result.stderr)")
            let printed = try Self.decoded(result.stdout.split(separator: "\n"))
            #expect(printed.allSatisfy { $0.type.hasPrefix("conversation.") || $0.type == "contact.created" })
            let contacts = try await Self.feed(cluster, .contacts, types: "contact.created").events
            let conversations = try await Self.feed(cluster, .conversations, types: "conversation.*").events
            #expect(contacts.count == 3 && conversations.count == 2)
            #expect(Set(printed.map(\.id)) == Set((contacts + conversations).map(\.id)))
            #expect(printed.count == contacts.count + conversations.count)

            // A position to start after, on one service.
            let after = try #require(contacts.first?.seq)
            let later = try await CLIProcess.run(
                ["events", "--types", "contact.created", "--after", "contacts=\(after)"],
                environment: Self.environment(cluster))
            #expect(try Self.decoded(later.stdout.split(separator: "\n")) == Array(contacts.dropFirst()))
        }
    }

    /// A service that does not answer as asked stops the command with one line saying which and why.
    @Test func aServiceThatIsDownIsNamedWithItsReason() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CONCIERGE_JWT_SECRET_FILE"] = nil
        environment["CONCIERGE_JWT_SECRET"] = String(repeating: "s", count: 40)
        let url = "http://127.0.0.1:\(freePort())"
        environment["ROUTING_URL"] = url
        let result = try await CLIProcess.run(["events", "--service", "routing"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "concierge events: routing (\(url)): connection refused (nothing listens there)\n")
    }

    @Test(.timeLimit(.minutes(2)))
    func followPrintsWhatIsKeptThenEventsCommittedAfterItStartedUntilSIGINT() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let kit = ConversationKit(cluster)
            _ = try await kit.desk()
            let contacts = cluster.contacts()
            let kept = try await contacts.create(NewContact(name: "Kept", emails: ["kept@example.com"]))
            let follow = try RunningCLI(
                ["events", "--follow", "--types", "contact.*,conversation.created"],
                environment: Self.environment(cluster))
            // The kept event: the catch-up is printed, so every stream is open (they open before it).
            #expect(await eventually(within: 20) { follow.lines.count == 1 }, "\(follow.standardError)")
            #expect(follow.lines.first?.contains(kept.id) == true)

            let live = try await contacts.create(NewContact(name: "Live", emails: ["live@example.com"]))
            #expect(await eventually(within: 10) { follow.lines.count == 2 }, "\(follow.standardError)")
            let conversation = try await kit.inbound(.messaging, from: "+4512121212", expecting: 201)
            #expect(
                await eventually(within: 10) { follow.lines.count == 4 },
                "\(follow.lines) \(follow.standardError)")
            let printed = try Self.decoded(follow.lines.map { Substring($0) })
            #expect(printed.map(\.type).first == "contact.created")
            #expect(printed[1][data: "id"] == live.id)
            // The inbound message's contact and conversation, from two services' streams.
            #expect(Set(printed.suffix(2).map(\.type)) == ["contact.created", "conversation.created"])
            #expect(printed.contains { $0[data: "id"] == conversation.conversationId })
            // A streamed line is the JSON the service sent, too.
            let page = try await Self.feed(cluster, .contacts).text
            #expect(page.contains(follow.lines[1]))

            follow.send(SIGINT)
            #expect(await eventually(within: 10) { follow.exitStatus != nil }, "\(follow.standardError)")
            #expect(follow.exitStatus == 0)
            let contactsSeq = try #require(printed.filter { $0.service == "contacts" }.last?.seq)
            let conversationsSeq = try #require(printed.filter { $0.service == "conversations" }.last?.seq)
            #expect(
                follow.standardError
                    == "concierge events: stopped; to go on from here: --after contacts=\(contactsSeq),"
                    + "conversations=\(conversationsSeq)\n")
        }
    }
}
