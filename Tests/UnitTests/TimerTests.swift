import ConciergeCore
import ConciergeLogging
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing
import Timers

/// The shared timers: set and cancelled with the change that needs them, fired once each in due order
/// with the handler's write in the same transaction, retried after a failing handler, fired after a
/// restart, and driven by a manual clock without sleeping.
@Suite struct TimerTests {
    /// A database with the timers table and an `effects` table the handlers write to.
    private static func open(_ folder: String) throws -> Database {
        try Database(
            path: folder + "/timers.sqlite",
            migrations: [
                Migration(1, "timers") { try TimerSchema.create($0) },
                Migration(2, "effects") {
                    try $0.execute("CREATE TABLE effects (seq INTEGER PRIMARY KEY, what TEXT NOT NULL)")
                },
            ], checkpointInterval: nil)
    }

    private static func scheduler(_ db: Database, time: any AlarmTimeSource, metrics: Metrics? = nil)
        -> TimerScheduler
    {
        TimerScheduler(
            db: db, time: time, retryDelays: [5, 30], logger: Logger(service: "tests", sink: MemorySink()),
            metrics: metrics)
    }

    /// A handler that writes what fired (and its payload) in the firing transaction.
    private static let recordEffect: TimerScheduler.Handler = { connection, timer in
        let payload = String(decoding: timer.payload, as: UTF8.self)
        try connection.run(
            "INSERT INTO effects (what) VALUES (?)",
            "\(timer.kind):\(timer.key)" + (payload.isEmpty ? "" : "=\(payload)"))
    }

    private static func effects(_ db: Database) throws -> [String] {
        try db.read { try $0.query("SELECT what FROM effects ORDER BY seq") { $0.string(0) } }
    }

    private static func find(_ db: Database, _ timers: Timers, _ kind: String, _ key: String) throws
        -> ScheduledTimer?
    {
        try db.read { try timers.find($0, kind: kind, key: key) }
    }

    @Test func aManualClockRingsItsAlarmsWhenMovedPastThemEarliestFirst() {
        let time = ManualTime()
        let start = time.now
        let rung = Mutex<[String]>([])
        time.alarm(at: start + 20) { rung.withLock { $0.append("b") } }
        time.alarm(at: start + 10) { rung.withLock { $0.append("a") } }
        time.alarm(at: start + 60) { rung.withLock { $0.append("c") } }
        time.advance(by: 9)
        #expect(rung.withLock { $0 }.isEmpty)
        time.advance(by: 11)
        #expect(rung.withLock { $0 } == ["a", "b"])
        // A moment already reached rings at once; each alarm rings once.
        time.alarm(at: start) { rung.withLock { $0.append("now") } }
        time.advance(by: 100)
        #expect(rung.withLock { $0 } == ["a", "b", "now", "c"])
    }

    @Test func schedulingAgainReplacesTheTimerAndCancellingRemovesIt() throws {
        try withTemporaryFolder { folder in
            let db = try Self.open(folder)
            let time = ManualTime()
            let timers = Timers()
            try db.write {
                try timers.schedule($0, kind: "sla.breach", key: "c1/firstReply", at: time.now + 60, payload: [1])
                try timers.schedule($0, kind: "sla.warning", key: "c1/firstReply", at: time.now + 30)
            }
            let first = try #require(try Self.find(db, timers, "sla.breach", "c1/firstReply"))
            #expect(first.due == time.now + 60 && first.payload == [1] && first.attempts == 0)

            try db.write {
                try timers.schedule($0, kind: "sla.breach", key: "c1/firstReply", at: time.now + 90, payload: [2])
            }
            let moved = try #require(try Self.find(db, timers, "sla.breach", "c1/firstReply"))
            #expect(moved.due == time.now + 90 && moved.payload == [2])
            #expect(try db.read { try Timers.counts($0) }.map(\.count) == [1, 1])

            #expect(try db.write { try timers.cancel($0, kind: "sla.breach", key: "c1/firstReply") })
            #expect(try db.write { try timers.cancel($0, kind: "sla.breach", key: "c1/firstReply") } == false)
            #expect(try Self.find(db, timers, "sla.breach", "c1/firstReply") == nil)
            #expect(try Self.find(db, timers, "sla.warning", "c1/firstReply") != nil)
        }
    }

    @Test func aRolledBackChangeLeavesNoTimer() throws {
        try withTemporaryFolder { folder in
            let db = try Self.open(folder)
            let timers = Timers()
            let at = Date(timeIntervalSince1970: 1_800_000_060)
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try db.write { connection in
                    try timers.schedule(connection, kind: "offer.expiry", key: "o1", at: at)
                    throw Refused()
                }
            }
            // A savepoint rolled back inside a transaction that commits takes its timer with it, and a
            // cancel rolled back leaves the timer in place.
            try db.write { connection in
                try timers.schedule(connection, kind: "offer.expiry", key: "o2", at: at)
                _ = try? connection.savepoint {
                    try timers.schedule(connection, kind: "offer.expiry", key: "o3", at: at)
                    try timers.cancel(connection, kind: "offer.expiry", key: "o2")
                    throw Refused()
                }
            }
            #expect(try Self.find(db, timers, "offer.expiry", "o1") == nil)
            #expect(try Self.find(db, timers, "offer.expiry", "o2") != nil)
            #expect(try Self.find(db, timers, "offer.expiry", "o3") == nil)
        }
    }

    @Test func dueTimersFireEarliestFirstEachOnceWithTheHandlersWrite() throws {
        try withTemporaryFolder { folder in
            let db = try Self.open(folder)
            let time = ManualTime()
            let scheduler = Self.scheduler(db, time: time)
            scheduler.handle("a", Self.recordEffect)
            scheduler.handle("b", Self.recordEffect)
            try db.write { connection in
                try scheduler.timers.schedule(connection, kind: "a", key: "third", at: time.now + 30)
                try scheduler.timers.schedule(
                    connection, kind: "b", key: "first", at: time.now + 10, payload: Array("x".utf8))
                try scheduler.timers.schedule(connection, kind: "a", key: "second", at: time.now + 20)
                try scheduler.timers.schedule(connection, kind: "a", key: "later", at: time.now + 3600)
            }
            #expect(try scheduler.fireDue() == time.now + 10)
            #expect(try Self.effects(db).isEmpty)

            time.advance(by: 30)
            #expect(try scheduler.fireDue() == time.now + 3570)
            #expect(try Self.effects(db) == ["b:first=x", "a:second", "a:third"])
            #expect(try db.read { try Timers.counts($0) }.map(\.kind) == ["a"])
            // Fired timers are gone: another pass fires nothing again.
            try scheduler.fireDue()
            #expect(try Self.effects(db).count == 3)
        }
    }

    @Test func aFailingHandlerIsUndoneAndRetriedLaterWhileOthersFire() throws {
        try withTemporaryFolder { folder in
            let db = try Self.open(folder)
            let time = ManualTime()
            let metrics = Metrics()
            let scheduler = Self.scheduler(db, time: time, metrics: metrics)
            let failuresLeft = Mutex(2)
            struct Unavailable: Error {}
            scheduler.handle("flaky") { connection, timer in
                // Its write is undone with the failure.
                try connection.run("INSERT INTO effects (what) VALUES (?)", "flaky:\(timer.key)@\(timer.attempts)")
                if failuresLeft.withLock({ left in
                    left -= 1
                    return left >= 0
                }) {
                    throw Unavailable()
                }
            }
            scheduler.handle("steady", Self.recordEffect)
            try db.write { connection in
                try scheduler.timers.schedule(connection, kind: "flaky", key: "f", at: time.now + 1)
                try scheduler.timers.schedule(connection, kind: "steady", key: "s", at: time.now + 2)
                try scheduler.timers.schedule(connection, kind: "unknown", key: "u", at: time.now + 2)
            }
            time.advance(by: 2)
            // The first retry delay is 5 s: the next due moment is then.
            #expect(try scheduler.fireDue() == time.now + 5)
            #expect(try Self.effects(db) == ["steady:s"])
            let failed = try #require(try Self.find(db, scheduler.timers, "flaky", "f"))
            #expect(failed.attempts == 1 && failed.due == time.now - 1)
            #expect(try Self.find(db, scheduler.timers, "unknown", "u")?.attempts == 1)

            time.advance(by: 4)
            try scheduler.fireDue()
            #expect(try Self.find(db, scheduler.timers, "flaky", "f")?.attempts == 1)
            time.advance(by: 1)
            // Second failure: the last delay (30 s) from now on.
            #expect(try scheduler.fireDue() == time.now + 30)
            #expect(try Self.find(db, scheduler.timers, "flaky", "f")?.attempts == 2)
            time.advance(by: 30)
            try scheduler.fireDue()
            #expect(try Self.effects(db) == ["steady:s", "flaky:f@2"])
            #expect(try Self.find(db, scheduler.timers, "flaky", "f") == nil)

            let text = metrics.render()
            #expect(text.contains(#"concierge_timers_fired_total{kind="flaky"} 1"#))
            #expect(text.contains(#"concierge_timers_fired_total{kind="steady"} 1"#))
            #expect(text.contains(#"concierge_timers_failed_total{kind="flaky"} 2"#))
            #expect(text.contains(#"concierge_timers_failed_total{kind="unknown"} 3"#))
            #expect(text.contains(#"concierge_timers_scheduled{kind="unknown"} 1"#))
            #expect(!text.contains(#"concierge_timers_scheduled{kind="flaky"}"#))
        }
    }

    @Test func aHandlerMaySetAFollowUpEvenUnderItsOwnKey() throws {
        try withTemporaryFolder { folder in
            let db = try Self.open(folder)
            let time = ManualTime()
            let scheduler = Self.scheduler(db, time: time)
            let timers = scheduler.timers
            scheduler.handle("skills.relax") { connection, timer in
                try Self.recordEffect(connection, timer)
                let step = Int(String(decoding: timer.payload, as: UTF8.self)) ?? 0
                guard step < 3 else { return }
                try timers.schedule(
                    connection, kind: "skills.relax", key: timer.key, at: timer.due + 60,
                    payload: Array(String(step + 1).utf8))
            }
            try db.write {
                try timers.schedule($0, kind: "skills.relax", key: "c1", at: time.now + 60, payload: Array("1".utf8))
            }
            for _ in 0..<4 {
                time.advance(by: 60)
                try scheduler.fireDue()
            }
            #expect(try Self.effects(db) == ["skills.relax:c1=1", "skills.relax:c1=2", "skills.relax:c1=3"])
            #expect(try Self.find(db, timers, "skills.relax", "c1") == nil)
        }
    }

    @Test func afterARestartTimersThatFellDueWhileDownFireOnce() async throws {
        try await withTemporaryFolderAsync { folder in
            let time = ManualTime()
            do {
                let db = try Self.open(folder)
                let timers = Timers()
                try db.write { connection in
                    try timers.schedule(connection, kind: "sla.breach", key: "c1", at: time.now + 10)
                    try timers.schedule(connection, kind: "sla.breach", key: "c2", at: time.now + 20)
                    try timers.schedule(connection, kind: "sla.breach", key: "c3", at: time.now + 7200)
                }
            }
            // Down for an hour: c1 and c2 fell due meanwhile.
            time.advance(by: 3600)
            for _ in 0..<2 {
                let db = try Self.open(folder)
                let scheduler = Self.scheduler(db, time: time)
                scheduler.handle("sla.breach", Self.recordEffect)
                async let running: Void = scheduler.run()
                #expect(await eventually { scheduler.isSleeping })
                scheduler.stop()
                await running
                #expect(try Self.effects(db) == ["sla.breach:c1", "sla.breach:c2"])
                #expect(try db.read { try Timers.counts($0) }.map(\.count) == [1])
            }
        }
    }

    @Test func movingAManualClockFiresTimersThroughTheRunningScheduler() async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Self.open(folder)
            let time = ManualTime()
            let scheduler = Self.scheduler(db, time: time)
            scheduler.handle("offer.expiry", Self.recordEffect)
            async let running: Void = scheduler.run()
            #expect(await eventually { scheduler.isSleeping })
            // Committed while the scheduler sleeps (a minute, with nothing set): it wakes for the earlier
            // moment, and sleeps on the manual clock until then.
            try db.write { try scheduler.timers.schedule($0, kind: "offer.expiry", key: "o1", at: time.now + 30) }
            try db.write { try scheduler.timers.schedule($0, kind: "offer.expiry", key: "o2", at: time.now + 45) }
            time.advance(by: 29)
            #expect(try Self.effects(db).isEmpty)
            time.advance(by: 1)
            #expect(try await eventually { try Self.effects(db) == ["offer.expiry:o1"] })
            time.advance(by: 3600)
            #expect(try await eventually { try Self.effects(db) == ["offer.expiry:o1", "offer.expiry:o2"] })
            scheduler.stop()
            await running
        }
    }

    @Test func withTheSystemClockATimerFiresWithinASecondOfItsMoment() async throws {
        try await withTemporaryFolderAsync { folder in
            let db = try Self.open(folder)
            let scheduler = Self.scheduler(db, time: SystemTime())
            let firedAt = Mutex<Date?>(nil)
            scheduler.handle("calendar.opens") { connection, timer in
                try Self.recordEffect(connection, timer)
                firedAt.withLock { $0 = Date() }
            }
            async let running: Void = scheduler.run()
            #expect(await eventually { scheduler.isSleeping })
            let due = Date() + 0.2
            try db.write { try scheduler.timers.schedule($0, kind: "calendar.opens", key: "inbox-1", at: due) }
            #expect(await eventually(within: 3) { firedAt.withLock { $0 } != nil })
            scheduler.stop()
            await running
            let fired = try #require(firedAt.withLock { $0 })
            #expect(fired >= due)
            #expect(fired.timeIntervalSince(due) < 1)
            #expect(try Self.effects(db) == ["calendar.opens:inbox-1"])
        }
    }
}
