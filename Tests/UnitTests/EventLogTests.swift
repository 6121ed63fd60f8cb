import ConciergeCore
import ConciergeJSON
import ConciergeModels
import Events
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

/// The events table and its live side: numbering, transactions, reading back, filters, retention, and
/// the hub's hand-over from reading to live.
@Suite struct EventLogTests {
    private static func open(_ folder: String, time: ManualTime = ManualTime(), retentionHours: Double = 168) throws
        -> (Database, EventLog)
    {
        let db = try Database(
            path: folder + "/events.sqlite",
            migrations: [Migration(1, "events") { try EventSchema.create($0) }])
        return (db, try EventLog(db: db, service: "tests", retention: retentionHours * 3600, time: time))
    }

    private static func data(_ text: String) -> [UInt8] { Array(#"{"note":"\#(text)"}"#.utf8) }

    @discardableResult
    private static func record(
        _ db: Database, _ log: EventLog, _ type: String, _ note: String, audience: String? = nil
    ) throws -> Event {
        try db.write { try log.record($0, type, data: data(note), audience: audience) }
    }

    @Test func seqRisesByOneWithoutGapsAndARolledBackChangeLeavesNoEventAndNoNumber() throws {
        try withTemporaryFolder { folder in
            let (db, log) = try Self.open(folder)
            try Self.record(db, log, "a.one", "1")
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try db.write { connection in
                    try log.record(connection, "a.two", data: Self.data("never"), audience: nil)
                    throw Refused()
                }
            }
            // A savepoint rolled back inside a transaction that commits: its event goes with it.
            try db.write { connection in
                _ = try? connection.savepoint {
                    try log.record(connection, "a.three", data: Self.data("undone"), audience: nil)
                    throw Refused()
                }
                try log.record(connection, "a.four", data: Self.data("2"), audience: nil)
            }
            let page = try log.page(after: nil, filter: EventFilter(), limit: 50)
            #expect(page.events.map(\.seq) == [1, 2])
            #expect(page.events.map(\.type) == ["a.one", "a.four"])
            #expect(log.hub.lastPublished == 2)
        }
    }

    @Test func theEventJSONCarriesItsFieldsAndTheResourceAsData() throws {
        try withTemporaryFolder { folder in
            let time = ManualTime(Date(timeIntervalSince1970: 1_800_000_000.25))
            let (db, log) = try Self.open(folder, time: time)
            let event = try Self.record(db, log, "conversation.created", "x")
            let parsed = try JSONSerialization.jsonObject(with: Data(event.json)) as? [String: Any]
            #expect(parsed?["seq"] as? Int == 1)
            #expect(parsed?["type"] as? String == "conversation.created")
            #expect(parsed?["service"] as? String == "tests")
            #expect(parsed?["occurredAt"] as? String == "2027-01-15T08:00:00.250Z")
            #expect((parsed?["id"] as? String).flatMap(UUID.init(uuidString:)) != nil)
            #expect((parsed?["data"] as? [String: Any])?["note"] as? String == "x")
            let sse = String(decoding: event.serverSentEvent, as: UTF8.self)
            #expect(
                sse == "id: 1\nevent: conversation.created\ndata: \(String(decoding: event.json, as: UTF8.self))\n\n")
        }
    }

    @Test func pagesAreOldestFirstAndFilteredByTypeAndAudience() throws {
        try withTemporaryFolder { folder in
            let (db, log) = try Self.open(folder)
            try Self.record(db, log, "conversation.created", "1", audience: nil)
            try Self.record(db, log, "conversation.assigned", "2", audience: "agent-a")
            try Self.record(db, log, "message.created", "3", audience: "agent-b")
            try Self.record(db, log, "conversation.assigned", "4", audience: "agent-b")
            try Self.record(db, log, "agent.updated", "5", audience: "agent-a")

            let all = try log.page(after: nil, filter: EventFilter(), limit: 2)
            #expect(all.events.map(\.seq) == [1, 2])
            #expect(all.hasMore)
            let rest = try log.page(after: 2, filter: EventFilter(), limit: 10)
            #expect(rest.events.map(\.seq) == [3, 4, 5])
            #expect(!rest.hasMore)
            #expect(rest.scannedThrough == 5)

            let conversations = try EventFilter(types: "conversation.*", audience: nil)
            #expect(try log.page(after: nil, filter: conversations, limit: 10).events.map(\.seq) == [1, 2, 4])
            let exact = try EventFilter(types: "message.created,agent.updated", audience: nil)
            #expect(try log.page(after: nil, filter: exact, limit: 10).events.map(\.seq) == [3, 5])
            let agentB = try EventFilter(types: nil, audience: "agent-b")
            #expect(try log.page(after: nil, filter: agentB, limit: 10).events.map(\.seq) == [3, 4])
            let agentBAssigned = try EventFilter(types: "conversation.*", audience: "agent-b")
            #expect(try log.page(after: nil, filter: agentBAssigned, limit: 10).events.map(\.seq) == [4])
            // Nothing the filter wants past seq 2: the page is empty but the read looked through 5.
            let none = try log.page(after: 2, filter: try EventFilter(types: "contact.*", audience: nil), limit: 10)
            #expect(none.events.isEmpty && none.scannedThrough == 5)
        }
    }

    @Test func malformedTypeFiltersAreRefused() throws {
        for bad in [
            "Conversation.created", "conversation*", "conv*.x", "a,,b", "a b", String(repeating: "a", count: 101),
        ] {
            #expect(throws: Problem.self) { try EventFilter(types: bad, audience: nil) }
        }
        #expect(try EventFilter(types: "*", audience: nil).matches(type: "anything.at_all"))
        #expect(try EventFilter(types: "conversation.*", audience: nil).matches(type: "conversation.tags_changed"))
        #expect(!(try EventFilter(types: "conversation.*", audience: nil).matches(type: "contact.created")))
    }

    @Test func retentionPrunesOldEventsAndACursorBeforeThemIsGoneButNumbersAreNeverReused() throws {
        try withTemporaryFolder { folder in
            let time = ManualTime()
            let (db, log) = try Self.open(folder, time: time, retentionHours: 1)
            for index in 1...3 { try Self.record(db, log, "a.old", "\(index)") }
            time.advance(by: 1800)
            for index in 4...5 { try Self.record(db, log, "a.newer", "\(index)") }
            time.advance(by: 1801)
            #expect(try log.prune() == 3)
            #expect(try log.page(after: nil, filter: EventFilter(), limit: 10).events.map(\.seq) == [4, 5])
            #expect(try log.page(after: 3, filter: EventFilter(), limit: 10).events.map(\.seq) == [4, 5])
            #expect(throws: EventLog.Gone.self) { try log.page(after: 2, filter: EventFilter(), limit: 10) }
            time.advance(by: 3600)
            // All are past retention, but the newest stays: it holds the numbering.
            #expect(try log.prune() == 1)
            #expect(throws: EventLog.Gone.self) { try log.page(after: 3, filter: EventFilter(), limit: 10) }
            #expect(try log.page(after: 4, filter: EventFilter(), limit: 10).events.map(\.seq) == [5])
            #expect(try log.page(after: 5, filter: EventFilter(), limit: 10).events.isEmpty)
            // The next event takes the next number, also after a restart.
            let reopened = try EventLog(db: db, service: "tests", retention: 3600, time: time)
            #expect(reopened.hub.lastPublished == 5)
            #expect(try Self.record(db, reopened, "a.next", "6").seq == 6)
        }
    }

    @Test func committedEventsAreHandedToLiveSubscribersInOrderExactlyOnce() throws {
        try withTemporaryFolder { folder in
            let (db, log) = try Self.open(folder)
            try Self.record(db, log, "a.before", "1", audience: "agent-a")
            let received = Mutex<[String]>([])
            let sink: EventHub.Sink = { message in
                received.withLock { $0.append(String(decoding: message, as: UTF8.self)) }
                return true
            }
            // A subscriber that read up to seq 0 is behind: it must read again before going live.
            #expect(log.hub.goLive(filter: EventFilter(), scannedThrough: 0, sink: sink) == nil)
            let page = try log.page(after: 0, filter: EventFilter(audience: "agent-a"), limit: 10)
            let id = try #require(
                log.hub.goLive(
                    filter: EventFilter(audience: "agent-a"), scannedThrough: page.scannedThrough, sink: sink))
            try Self.record(db, log, "a.mine", "2", audience: "agent-a")
            try Self.record(db, log, "a.theirs", "3", audience: "agent-b")
            try Self.record(db, log, "a.mine", "4", audience: "agent-a")
            #expect(received.withLock { $0.map { $0.components(separatedBy: "\n")[0] } } == ["id: 2", "id: 4"])
            log.hub.unsubscribe(id, audience: "agent-a")
            try Self.record(db, log, "a.mine", "5", audience: "agent-a")
            #expect(received.withLock { $0.count } == 2)
            #expect(log.hub.subscriberCount == 0)
        }
    }

    @Test func aWaitEndsWhenAWantedEventCommitsAndNotForOthers() async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, log) = try Self.open(folder)
            let head = try log.lastSeq()
            let filter = try EventFilter(types: "b.*", audience: nil)
            let waited = Task { await log.hub.wait(filter: filter, scannedThrough: head, seconds: 10) }
            #expect(await eventually { log.hub.waitingCount == 1 })
            try Self.record(db, log, "a.ignored", "x")
            #expect(log.hub.waitingCount == 1)
            try Self.record(db, log, "b.wanted", "y")
            // Published on commit: the waiter is released before `record` returns.
            #expect(log.hub.waitingCount == 0)
            await waited.value

            // With nothing wanted, the wait ends at its time.
            let quiet = ContinuousClock.now
            await log.hub.wait(filter: filter, scannedThrough: try log.lastSeq(), seconds: 0.2)
            #expect(ContinuousClock.now - quiet >= .milliseconds(190))
            // Closing the hub ends waits at once.
            let last = try log.lastSeq()
            async let closed: Void = log.hub.wait(filter: filter, scannedThrough: last, seconds: 30)
            log.hub.close()
            await closed
            #expect(log.hub.isClosed)
        }
    }
}
