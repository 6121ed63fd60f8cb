import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import Glibc
import TestSupport
import Testing

/// Routing's event feed (SPEC §9) from the real executable: `GET /v1/events` pages by type, what an
/// agent's token may see, and a Server-Sent Events stream that receives a decision as it commits.
@Suite struct RoutingEventFeedTests {
    /// `GET /v1/events` with this query as `role` (`sub` for an agent), decoded: the page's items.
    static func events(_ cluster: TestCluster, _ query: String, as role: Role, sub: String? = nil) async throws
        -> [JSONValue]
    {
        let response = try await cluster.raw(.routing, token: cluster.token(role, sub: sub)).raw(
            "GET", "/v1/events" + query)
        #expect(response.status == 200)
        let page = try JSONCoding.decode(JSONValue.self, from: response.body)
        return page.objectValue?["items"]?.arrayValue ?? []
    }

    static func type(_ event: JSONValue) -> String? { event.objectValue?["type"]?.stringValue }
    static func data(_ event: JSONValue) -> [String: JSONValue] { event.objectValue?["data"]?.objectValue ?? [:] }

    @Test func theFeedShowsAvailabilityChangesAndAnAgentSeesOnlyItsOwn() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let chat = try await kit.inbox("Chat", defaultFor: [.messaging])
            let a = try await kit.agent("A", inboxes: [chat.id])
            let b = try await kit.agent("B", inboxes: [chat.id])
            // A sets its own availability; a manager sets B's.
            _ = try await cluster.routing(as: .agent, sub: a.id).setAvailability(a.id, .away)
            _ = try await kit.manager.setAvailability(b.id, .busy)

            let all = try await Self.events(cluster, "?types=agent.*", as: .teamManager)
            #expect(
                all.map(Self.type) == [
                    "agent.created", "agent.created", "agent.availability_changed", "agent.availability_changed",
                ])
            let changes = all.filter { Self.type($0) == "agent.availability_changed" }.map(Self.data)
            #expect(changes.map { $0["id"]?.stringValue } == [a.id, b.id])
            #expect(changes.map { $0["availability"]?.stringValue } == ["away", "busy"])
            #expect(changes.map { $0["previousAvailability"]?.stringValue } == ["available", "available"])
            #expect(all.allSatisfy { $0.objectValue?["service"]?.stringValue == "routing" })

            // An agent's token: its own record's events, never another agent's.
            let own = try await Self.events(cluster, "?types=agent.availability_changed", as: .agent, sub: a.id)
            #expect(own.map { Self.data($0)["id"]?.stringValue } == [a.id])
            let others = try await Self.events(cluster, "?types=agent.*", as: .agent, sub: b.id)
            #expect(others.map(Self.type) == ["agent.created", "agent.availability_changed"])
            #expect(others.allSatisfy { Self.data($0)["id"]?.stringValue == b.id })
        }
    }

    @Test func aStreamReceivesTheDecisionOfARouteRequest() async throws {
        try await withServices([.routing]) { cluster in
            let kit = RoutingKit(cluster)
            let chat = try await kit.inbox("Chat", defaultFor: [.messaging])
            let a = try await kit.agent("A", inboxes: [chat.id])
            let stream = try await EventStreamReader.open(
                port: cluster.ports[.routing] ?? 0, path: "/v1/events?types=routing.*",
                token: cluster.token(.service))
            defer { stream.close() }
            // The stream has begun (its head and retry hint are here): what commits now is sent on it.
            #expect(await stream.receive { $0.contains("retry: 2000\n\n") })
            let result = try await kit.route("c-1", .messaging)
            #expect(result.assigneeId == a.id)
            #expect(await stream.receive { EventStreamReader.firstEvent(named: "routing.decided", in: $0) != nil })
            let event = try #require(EventStreamReader.firstEvent(named: "routing.decided", in: stream.text))
            #expect(Self.type(event) == "routing.decided")
            let data = Self.data(event)
            #expect(data["conversationId"]?.stringValue == "c-1")
            #expect(data["assigneeId"]?.stringValue == a.id)
            let decision = try await kit.admin.decision("c-1")
            #expect(
                JSONValue.object(data) == (try JSONCoding.decode(JSONValue.self, from: try JSONCoding.encode(decision)))
            )
        }
    }
}

/// A Server-Sent Events stream read over a plain socket: the request is written by hand, the chunked
/// answer read as it comes (each event is one chunk, so its lines arrive whole).
///
/// `@unchecked Sendable`: one test reads it from one task at a time; the blocking reads run off the pool.
private final class EventStreamReader: @unchecked Sendable {
    private let fd: Int32
    private var received: [UInt8] = []
    private var isClosed = false

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    static func open(port: Int, path: String, token: String) async throws -> EventStreamReader {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        let reader = EventStreamReader(fd: fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        let request = Array(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n"
                .utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        try #require(sent == request.count)
        return reader
    }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// Reads until `done` holds for the text received so far, the server closes, or `timeout` seconds pass.
    func receive(timeout: Double = 5, until done: @escaping @Sendable (String) -> Bool) async -> Bool {
        await Task.detached { self.read(timeout: timeout, until: done) }.value
    }

    private func read(timeout: Double, until done: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !done(text) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(max(1, left * 1000))) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: chunk[0..<count])
            } else if count == 0 || errno != EINTR {
                return done(text)
            }
        }
        return true
    }

    /// The JSON of the first whole event of this type in `text` (its `data:` line).
    static func firstEvent(named type: String, in text: String) -> JSONValue? {
        guard let start = text.range(of: "event: \(type)\ndata: "),
            let end = text[start.upperBound...].range(of: "\n")
        else { return nil }
        return try? JSONCoding.decode(JSONValue.self, from: Array(text[start.upperBound..<end.lowerBound].utf8))
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }
}
