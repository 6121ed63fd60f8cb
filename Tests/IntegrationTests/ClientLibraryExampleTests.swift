import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// The example application (`Tests/Example`), built with the tests against the library product only,
/// run against real services: it lists conversations and follows assignments as they happen.
@Suite struct ClientLibraryExampleTests {
    @Test func theExampleListsConversationsAndFollowsAssignmentsLive() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk(capacity: PartialCounts(messaging: 10))
            let earlier = try await kit.inbound(.messaging, from: "+4577777700", expecting: 201)
            let environment = [
                "CONVERSATIONS_URL": cluster.url(.conversations), "CONCIERGE_TOKEN": cluster.token(.teamManager),
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            ]
            async let run = CLIProcess.run(
                Binaries.path("concierge-example"), ["--follow", "2"], environment: environment, timeout: 60)
            // Once its stream is open, two conversations are assigned.
            #expect(await eventually(within: 20) { await Self.openStreams(cluster) == 1 })
            var assigned: [String] = []
            for index in 1...2 {
                let result = try await kit.inbound(.messaging, from: "+457777770\(index)", expecting: 201)
                assigned.append(try #require(result.conversationId))
            }
            let result = try await run
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "conversation \(try #require(earlier.conversationId)) messaging waiting")
            #expect(lines.suffix(2) == assigned.map { "assigned \($0) to \(ada.id)" })
        }
    }

    private static func openStreams(_ cluster: TestCluster) async -> Double? {
        guard let answer = try? await cluster.raw(.conversations).raw("GET", "/metrics") else { return nil }
        return String(decoding: answer.body, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("concierge_event_streams ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
