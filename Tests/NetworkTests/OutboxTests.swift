import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Storage
import TestSupport
import Testing

@testable import Outbox

/// The durable outbox delivering to a real in-process server over loopback.
@Suite struct OutboxTests {
    typealias Fixture = OutboxFixture

    @Test func entriesAreDeliveredWithTheirIdAsIdempotencyKeyAndRemoved() async throws {
        let receiver = OutboxReceiver()
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            let ids =
                try Fixture.enqueue(db, ["first", "second"], requestID: "req-outbox-1")
                + Fixture.enqueue(db, ["third"])
            #expect(try Fixture.count(db, "outbox") == 3)
            try await Fixture.withDispatcher(outbox) {
                outbox.notify()
                #expect(await eventually { (try? Fixture.count(db, "outbox")) == 0 })
            }
            let delivered = receiver.delivered
            #expect(delivered.map(\.key) == ids)
            #expect(delivered.map(\.body) == [#"{"name":"first"}"#, #"{"name":"second"}"#, #"{"name":"third"}"#])
            #expect(delivered.map(\.requestID) == ["req-outbox-1", "req-outbox-1", nil])
            #expect(receiver.all.count == 3, "each delivered exactly once")
        }
    }

    @Test func failedEntryIsRetriedWithBackoffAndNeverOvertaken() async throws {
        // "a" is refused twice with 503; "b" and "c" are written (and the dispatcher woken) while "a" waits.
        let receiver = OutboxReceiver { key, attempt in key == "a" && attempt <= 2 ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try await Fixture.withDispatcher(outbox) {
                try Fixture.enqueue(db, ["a"])
                outbox.notify()
                #expect(await eventually { receiver.attempts(for: "a").count >= 1 })
                try Fixture.enqueue(db, ["b"])
                outbox.notify()
                #expect(await eventually { receiver.attempts(for: "a").count >= 2 })
                try Fixture.enqueue(db, ["c"])
                outbox.notify()
                #expect(await eventually(within: 10) { (try? Fixture.count(db, "outbox")) == 0 })
            }
            let all = receiver.all
            #expect(all.map(\.key) == ["a", "a", "a", "b", "c"])
            #expect(all.map(\.status) == [503, 503, 200, 200, 200])
            let a = receiver.attempts(for: "a")
            if a.count == 3 {
                // 200 ms then 400 ms, each with ±20 % jitter.
                #expect(Double(a[1].at - a[0].at) / 1e9 >= 0.15)
                #expect(Double(a[2].at - a[1].at) / 1e9 >= 0.3)
            }
        }
    }

    @Test func oneEntitysFailingEntryDoesNotHoldUpAnothers() async throws {
        // Ordering is per target and key: conversation c1's refused call delays only c1's later calls.
        let receiver = OutboxReceiver { key, attempt in key == "c1-first" && attempt <= 2 ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try Fixture.enqueue(db, ["c1-first", "c1-second"], key: "c1")
            try Fixture.enqueue(db, ["c2-first"], key: "c2")
            try await Fixture.withDispatcher(outbox) {
                #expect(await eventually(within: 10) { (try? Fixture.count(db, "outbox")) == 0 })
            }
            let delivered = receiver.delivered.map(\.key)
            #expect(delivered.filter { $0.hasPrefix("c1") } == ["c1-first", "c1-second"])
            let c2 = try #require(delivered.firstIndex(of: "c2-first"))
            let c1 = try #require(delivered.firstIndex(of: "c1-first"))
            #expect(c2 < c1, "c2 waited for c1: \(receiver.all.map { "\($0.key):\($0.status)" })")
        }
    }

    /// The due entries of a backlog mostly waiting out backoffs are found through `outbox_due` (few
    /// due) or the walk in order (many due) with the same answer: due ones in order, none overtaking an
    /// earlier one of its group still waiting; with none due, when the first will be.
    @Test func dueEntriesOfABacklogAreTheSameWhicheverWayTheyAreFound() throws {
        let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
        let now: Int64 = 1_000_000
        // 3,000 entries, one key each, all waiting until later; then some made due.
        let names = (0..<3_000).map { "e\($0)" }
        try db.write { connection in
            for name in names { try Outbox.enqueue(connection, Fixture.call(name, key: name), id: name) }
            try connection.run("UPDATE outbox SET next_attempt_at = ? + seq", now + 60_000)
        }
        try db.read { connection in
            let idle = try OutboxStore.due(connection, now: now)
            #expect(idle.entries.isEmpty)
            #expect(idle.next == now + 60_001)
        }
        // Few due (every 100th, and "late", which stays back: an earlier entry of its key waits).
        try db.write { connection in
            try connection.run("UPDATE outbox SET next_attempt_at = ? WHERE seq % 100 = 0", now - 1)
            try Outbox.enqueue(connection, Fixture.call("late", key: "e1500"), id: "late")
            try connection.run("UPDATE outbox SET next_attempt_at = ? WHERE id = 'late'", now - 1)
        }
        let fewDue = try db.read { try OutboxStore.due($0, now: now) }
        #expect(fewDue.entries.map(\.id) == (1...30).map { "e\($0 * 100 - 1)" })
        // Many due (all but every 7th): the first 200 in order, again without the blocked one.
        try db.write { try $0.run("UPDATE outbox SET next_attempt_at = ? WHERE seq % 7 != 0", now - 1) }
        let manyDue = try db.read { try OutboxStore.due($0, now: now) }
        let expected = names.enumerated().filter { ($0.offset + 1) % 7 != 0 || ($0.offset + 1) % 100 == 0 }.map(
            \.element)
        #expect(manyDue.entries.map(\.id) == Array(expected.prefix(200)))
    }

    /// `notifyIfWritten` wakes the dispatcher for a commit that wrote an entry, not for one that did not.
    @Test func notifyIfWrittenWakesTheDispatcherOnlyForNewEntries() async throws {
        let receiver = OutboxReceiver()
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try await Fixture.withDispatcher(outbox) {
                // Once an entry is delivered the dispatcher has looked and goes idle (for up to 500 ms).
                try Fixture.enqueue(db, ["first"])
                #expect(await eventually { receiver.delivered.count == 1 })
                try Fixture.enqueue(db, ["woken"])
                outbox.notifyIfWritten()
                // Well before the dispatcher would look again by itself (500 ms).
                #expect(await eventually(within: 0.3) { receiver.delivered.map(\.key) == ["first", "woken"] })
            }
        }
    }

    @Test func refusedEntryMovesToTheDeadLetterTable() async throws {
        let receiver = OutboxReceiver { key, _ in key == "invalid" ? 422 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try Fixture.enqueue(db, ["invalid", "valid"])
            try await Fixture.withDispatcher(outbox) {
                outbox.notify()
                #expect(await eventually { (try? Fixture.count(db, "outbox")) == 0 })
            }
            #expect(receiver.attempts(for: "invalid").count == 1, "a 422 is not retried")
            #expect(receiver.delivered.map(\.key) == ["valid"])
            let dead = try db.read { connection in
                try connection.query("SELECT id, status, error, path FROM outbox_dead") {
                    (id: $0.string(0), status: $0.int(1), error: $0.string(2), path: $0.string(3))
                }
            }
            #expect(dead.count == 1)
            #expect(dead.first?.id == "invalid")
            #expect(dead.first?.status == 422)
            #expect(dead.first?.path == OutboxReceiver.path)
            #expect(dead.first?.error.contains("test receiver answered 422") == true)
        }
    }

    @Test func entriesSurviveARestart() async throws {
        let receiver = OutboxReceiver()
        let path = try Fixture.databasePath()
        try await withServer(receiver.router()) { _, port in
            do {
                // The first process writes and dies before any dispatcher ran.
                let db = try Database(path: path, migrations: Fixture.migrations)
                try Fixture.enqueue(db, ["before-1", "before-2"])
                let depth = Fixture.outbox(db, port: port).depth()
                #expect(depth.map(\.target) == [Fixture.target])
                #expect(depth.first?.count == 2)
            }
            #expect(receiver.all.isEmpty)

            let db = try Database(path: path, migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try await Fixture.withDispatcher(outbox) {
                #expect(await eventually { (try? Fixture.count(db, "outbox")) == 0 })
            }
            #expect(receiver.delivered.map(\.key) == ["before-1", "before-2"])
        }
    }

    @Test func deliverNowDeliversAndRemoves() async throws {
        let receiver = OutboxReceiver { key, attempt in key == "flaky" && attempt == 1 ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)

            let id = try #require(try Fixture.enqueue(db, ["now"]).first)
            let response = try #require(await outbox.deliverNow(id))
            #expect(response.status == 200)
            #expect(try Fixture.count(db, "outbox") == 0)
            #expect(receiver.delivered.map(\.key) == ["now"])

            // A failed attempt leaves the entry for the dispatcher, with the attempt counted.
            try Fixture.enqueue(db, ["flaky"])
            #expect(await outbox.deliverNow("flaky") == nil)
            let attempts = try db.read { try $0.scalarInt("SELECT attempts FROM outbox WHERE id = 'flaky'") }
            #expect(attempts == 1)
            #expect(await outbox.deliverNow("no-such-entry") == nil)
        }
    }

    @Test func deliverNowDoesNotOvertakeAnEarlierPendingEntry() async throws {
        let receiver = OutboxReceiver { key, attempt in key == "earlier" && attempt == 1 ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try Fixture.enqueue(db, ["earlier"])
            #expect(await outbox.deliverNow("earlier") == nil)
            try Fixture.enqueue(db, ["later"])
            #expect(await outbox.deliverNow("later") == nil, "an earlier entry for the target is still pending")
            try await Fixture.withDispatcher(outbox) {
                #expect(await eventually { (try? Fixture.count(db, "outbox")) == 0 })
            }
            #expect(receiver.delivered.map(\.key) == ["earlier", "later"])
        }
    }

    @Test func aCommitThatWritesAnEntryWakesTheDispatcherByItself() async throws {
        let receiver = OutboxReceiver()
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            // Nobody calls notify(): without the commit's own wake-up the idle dispatcher looks only
            // every 500 ms, so ten entries one after another take 5 s; woken, milliseconds.
            let started = ContinuousClock.now
            try await Fixture.withDispatcher(outbox) {
                for n in 1...10 {
                    try Fixture.enqueue(db, ["entry-\(n)"])
                    #expect(await eventually { receiver.delivered.count == n })
                }
            }
            #expect(ContinuousClock.now - started < .milliseconds(2500), "took \(ContinuousClock.now - started)")
            #expect(try Fixture.count(db, "outbox") == 0)
        }
    }

    @Test func settleWaitsForAnEarlierEntryOfItsGroupAndThenDeliversOnce() async throws {
        let receiver = OutboxReceiver { key, attempt in key == "earlier" && attempt == 1 ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try Fixture.enqueue(db, ["earlier"], key: "conversation-1")
            #expect(await outbox.deliverNow("earlier") == nil, "refused once: waits out its backoff")
            try Fixture.enqueue(db, ["later"], key: "conversation-1")
            let started = ContinuousClock.now
            let settled = try await Fixture.withDispatcher(outbox) { await outbox.settle("later", timeout: 5) }
            #expect(settled, "settled once the dispatcher delivered the earlier entry")
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(receiver.all.map(\.key) == ["earlier", "earlier", "later"], "in order, each delivered once")
            #expect(try Fixture.count(db, "outbox") == 0)
        }
    }

    @Test func settleAppliesTheGivenAnswerInTheTransactionThatRemovesTheEntry() async throws {
        let receiver = OutboxReceiver()
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            try db.write { try $0.execute("CREATE TABLE applied (entry TEXT, answer TEXT)") }
            let outbox = Fixture.outbox(db, port: port)
            outbox.onDelivered("test-event") { entry, _, connection in
                try connection.run("INSERT INTO applied VALUES (?, 'registered')", entry.id)
            }
            try Fixture.enqueue(db, ["mine"])
            let settled = await outbox.settle("mine", timeout: 5) { entry, response, connection in
                try connection.run(
                    "INSERT INTO applied VALUES (?, ?)", entry.id, String(decoding: response.body, as: UTF8.self))
            }
            #expect(settled)
            let applied = try db.read {
                try $0.query("SELECT entry, answer FROM applied") { [$0.string(0), $0.string(1)] }
            }
            #expect(applied == [["mine", #"{"ok":true}"#]], "the caller's function, once, with the answer")
            #expect(try Fixture.count(db, "outbox") == 0)
            // Without one, the kind's registered function applies the answer (as for the dispatcher).
            try Fixture.enqueue(db, ["theirs"])
            #expect(await outbox.settle("theirs", timeout: 5))
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM applied WHERE answer = 'registered'") } == 1)
        }
    }

    @Test func settleGivesUpAtItsDeadlineWhileAnEarlierEntryKeepsFailing() async throws {
        let receiver = OutboxReceiver { key, _ in key == "stuck" ? 503 : 200 }
        try await withServer(receiver.router()) { _, port in
            let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
            let outbox = Fixture.outbox(db, port: port)
            try Fixture.enqueue(db, ["stuck"], key: "conversation-2")
            #expect(await outbox.deliverNow("stuck") == nil)
            try Fixture.enqueue(db, ["behind"], key: "conversation-2")
            let started = ContinuousClock.now
            #expect(await outbox.settle("behind", timeout: 0.3) == false)
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(290) && waited < .seconds(3), "waited \(waited)")
            #expect(receiver.attempts(for: "behind").isEmpty, "never sent ahead of the stuck entry")
        }
    }

    @Test func entriesWrittenBeforeKindsExistedGetTheirKindFromTheirPath() throws {
        let before = Array(Fixture.migrations.prefix(2))
        let path = try Fixture.databasePath()
        let paths = [
            "/v1/route": "route", "/v1/assignments/c%2F1/assign": "assign", "/v1/assignments/c1/release": "release",
            "/v1/contacts/k1/block": "block", "/v1/internal/hero-replacements": "hero-replacement",
            "/v1/internal/contact-merges": "contact-merge", "/v1/internal/contact-snapshots": "contact-snapshot",
            "/v1/internal/routing-decisions": "routing-decision",
            "/v1/internal/agent-deactivations": "agent-deactivation",
            "/v1/elsewhere": "",
        ]
        do {
            let old = try Database(path: path, migrations: before)
            try old.write { connection in
                for (n, entry) in paths.keys.sorted().enumerated() {
                    try connection.run(
                        """
                        INSERT INTO outbox (id, target, method, path, body, next_attempt_at, created_at)
                        VALUES (?, 'routing', 'POST', ?, x'7B7D', 0, 0)
                        """, "e\(n)", entry)
                }
            }
        }
        let db = try Database(path: path, migrations: Fixture.migrations)
        let kinds = try db.read { try $0.query("SELECT path, kind FROM outbox") { ($0.string(0), $0.string(1)) } }
        #expect(Dictionary(uniqueKeysWithValues: kinds) == paths)
    }

    @Test func firstDeliveryIsTrueOnceThenFalse() throws {
        let db = try Database(path: try Fixture.databasePath(), migrations: Fixture.migrations)
        #expect(try db.write { try Idempotency.firstDelivery($0, id: "entry-1") })
        #expect(try !db.write { try Idempotency.firstDelivery($0, id: "entry-1") })
        #expect(try db.write { try Idempotency.firstDelivery($0, id: "entry-2") })

        // Recorded in the caller's transaction: a rolled-back effect leaves the id unprocessed.
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try db.write { connection in
                _ = try Idempotency.firstDelivery(connection, id: "entry-3")
                throw Abort()
            }
        }
        #expect(try db.write { try Idempotency.firstDelivery($0, id: "entry-3") })
    }
}
