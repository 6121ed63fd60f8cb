import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Storage

/// `GroupWriter`: changes from many tasks share transactions, each answered only after its commit.
@Suite struct GroupWriterTests {
    private struct Refused: Error {}
    private struct DiskOnFire: Error {}

    private static func database(in folder: String) throws -> Database {
        try Database(
            path: folder + "/g.sqlite",
            migrations: [
                Migration(1, "rows") {
                    try $0.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
                }
            ])
    }

    /// A started writer on a new database, counting its commits and aborts.
    private static func started(
        in folder: String, runsOnCallers: Bool
    ) throws -> (Database, GroupWriter, commits: Counter, aborts: Counter) {
        let db = try database(in: folder)
        let writer = GroupWriter(db: db, runsOnCallers: runsOnCallers) { $0 is Refused }
        let (commits, aborts) = (Counter(), Counter())
        writer.onCommit = { commits.add() }
        writer.onAbort = { aborts.add() }
        writer.start()
        return (db, writer, commits, aborts)
    }

    private static func names(_ db: Database) throws -> Set<String> {
        Set(try db.read { try $0.query("SELECT name FROM rows") { $0.string(0) } })
    }

    /// A change that holds the writer until `release` is set, so the changes sent meanwhile queue up and
    /// share the next transaction. Sent from a thread of its own: with `runsOnCallers` it runs there,
    /// and blocking a thread of the concurrency pool instead could stall the tasks that release it.
    /// Returns once the writer is held.
    private static func holdWriter(_ writer: GroupWriter, until release: Flag) async throws -> Task<Void, any Error> {
        let holding = Flag()
        let holder = Task(executorPreference: ThreadExecutor()) {
            try await writer.write { _ in
                holding.set()
                while !release.isSet { usleep(1000) }
            }
        }
        try await waitUntil { holding.isSet }
        return holder
    }

    /// Polls `condition` every millisecond for up to 10 s: the tests wait on the writer's state.
    private static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "timed out")
            try await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    @Test(arguments: [false, true])
    func everyChangeIsCommittedWhenItsCallerResumes(runsOnCallers: Bool) async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, writer, commits, _) = try Self.started(in: folder, runsOnCallers: runsOnCallers)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let id = try await writer.write { connection in
                            try connection.run("INSERT INTO rows (name) VALUES (?)", "row-\(i)")
                            return connection.lastInsertRowID
                        }
                        // Visible to a reader (another connection) as soon as the caller resumes.
                        let seen = try db.read { try $0.scalarInt("SELECT count(*) FROM rows WHERE id = ?", [id]) }
                        #expect(seen == 1)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try Self.names(db).count == 200)
            #expect(commits.value >= 1 && commits.value <= 200)
        }
    }

    @Test(arguments: [false, true])
    func aRecoverableErrorUndoesOnlyItsOwnChange(runsOnCallers: Bool) async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, writer, commits, _) = try Self.started(in: folder, runsOnCallers: runsOnCallers)
            let release = Flag()
            let holder = try await Self.holdWriter(writer, until: release)
            let first = Task { try await writer.write { try $0.run("INSERT INTO rows (name) VALUES ('first')") } }
            let refused = Task {
                try await writer.write { connection in
                    try connection.run("INSERT INTO rows (name) VALUES ('refused')")
                    throw Refused()
                }
            }
            let last = Task { try await writer.write { try $0.run("INSERT INTO rows (name) VALUES ('last')") } }
            try await Self.waitUntil { writer.waitingChanges == 3 }
            release.set()
            try await holder.value
            _ = try await first.value
            await #expect(throws: Refused.self) { try await refused.value }
            _ = try await last.value
            #expect(try Self.names(db) == ["first", "last"])
            // The holder's transaction, then one shared by the three.
            #expect(commits.value == 2)
        }
    }

    @Test(arguments: [false, true])
    func anyOtherErrorRollsBackTheWholeTransactionAndCallsOnAbort(runsOnCallers: Bool) async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, writer, _, aborts) = try Self.started(in: folder, runsOnCallers: runsOnCallers)
            let release = Flag()
            let holder = try await Self.holdWriter(writer, until: release)
            let first = Task { try await writer.write { try $0.run("INSERT INTO rows (name) VALUES ('first')") } }
            let broken = Task {
                try await writer.write { connection in
                    try connection.run("INSERT INTO rows (name) VALUES ('broken')")
                    throw DiskOnFire()
                }
            }
            try await Self.waitUntil { writer.waitingChanges == 2 }
            release.set()
            try await holder.value
            await #expect(throws: DiskOnFire.self) { try await first.value }
            await #expect(throws: DiskOnFire.self) { try await broken.value }
            #expect(try Self.names(db).isEmpty)
            #expect(aborts.value == 1)
            // The writer goes on afterwards.
            _ = try await writer.write { try $0.run("INSERT INTO rows (name) VALUES ('after')") }
            #expect(try Self.names(db) == ["after"])
        }
    }

    /// With `runsOnCallers` a change sent to an idle writer runs on the caller's thread; those sent
    /// while another runs wait, and the oldest of them runs them all in one transaction on its own thread.
    @Test func anIdleWriterRunsTheChangeOnTheCallersThread() async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, writer, commits, _) = try Self.started(in: folder, runsOnCallers: true)
            let onCallersThread = try await Task(executorPreference: ThreadExecutor()) {
                let caller = pthread_self()
                let ranOn = try await writer.write { connection in
                    try connection.run("INSERT INTO rows (name) VALUES ('alone')")
                    return pthread_self()
                }
                return pthread_equal(caller, ranOn) != 0
            }.value
            #expect(onCallersThread)
            let release = Flag()
            let holder = try await Self.holdWriter(writer, until: release)
            // Each queued change from a thread of its own, sent in order; each says where it ran.
            var queued: [Task<(caller: pthread_t, ranOn: pthread_t), any Error>] = []
            for i in 0..<3 {
                queued.append(
                    Task(executorPreference: ThreadExecutor()) {
                        let ranOn = try await writer.write { connection in
                            try connection.run("INSERT INTO rows (name) VALUES (?)", "queued-\(i)")
                            return pthread_self()
                        }
                        return (pthread_self(), ranOn)
                    })
                try await Self.waitUntil { writer.waitingChanges == i + 1 }
            }
            release.set()
            try await holder.value
            var threads: [(caller: pthread_t, ranOn: pthread_t)] = []
            for task in queued { threads.append(try await task.value) }
            #expect(try Self.names(db) == ["alone", "queued-0", "queued-1", "queued-2"])
            // Alone, the holder, then one shared by the three queued (one each had they run inline),
            // run by the first of them on its own thread.
            #expect(commits.value == 3)
            #expect(threads.allSatisfy { pthread_equal($0.ranOn, threads[0].caller) != 0 })
            #expect(pthread_equal(threads[1].caller, threads[0].caller) == 0)
        }
    }
}

extension GroupWriterTests {
    /// One change sent while `holdWriter` holds the writer for `holdMilliseconds`, from a thread of
    /// its own, with the given spinning settings. Returns how many changes queued and the commits.
    private static func changeWhileHeld(
        holdMilliseconds: UInt64, spinMicroseconds: Int, maySpin: Bool
    ) async throws -> (queued: Int, commits: Int, names: Set<String>) {
        var outcome = (queued: 0, commits: 0, names: Set<String>())
        try await withTemporaryFolderAsync { folder in
            let (db, writer, commits, _) = try Self.started(in: folder, runsOnCallers: true)
            writer.spinMicroseconds = spinMicroseconds
            writer.maySpin = { maySpin }
            let release = Flag()
            let holder = try await Self.holdWriter(writer, until: release)
            let change = Task(executorPreference: ThreadExecutor()) {
                try await writer.write { try $0.run("INSERT INTO rows (name) VALUES ('change')") }
            }
            try await Task.sleep(nanoseconds: holdMilliseconds * 1_000_000)
            release.set()
            try await holder.value
            _ = try await change.value
            outcome = (writer.changesQueued, commits.value, try Self.names(db))
        }
        return outcome
    }

    /// With `spinMicroseconds`, a change that finds a transaction running and nobody else waiting
    /// watches for its end on its own thread (no queueing, no sleep) when `maySpin` allows it.
    @Test func aChangeWaitsForABriefTransactionWithoutQueueing() async throws {
        let spun = try await Self.changeWhileHeld(holdMilliseconds: 30, spinMicroseconds: 5_000_000, maySpin: true)
        #expect(spun.queued == 0)
        #expect(spun.commits == 2)
        #expect(spun.names == ["change"])
    }

    /// It queues as before when `maySpin` says no (its loop has other work) or when the time is up.
    @Test func aChangeQueuesWhenItMayNotSpinOrTheTransactionRunsLong() async throws {
        let refused = try await Self.changeWhileHeld(holdMilliseconds: 30, spinMicroseconds: 5_000_000, maySpin: false)
        #expect(refused.queued == 1)
        #expect(refused.names == ["change"])
        let timedOut = try await Self.changeWhileHeld(holdMilliseconds: 60, spinMicroseconds: 1_000, maySpin: true)
        #expect(timedOut.queued == 1)
        #expect(timedOut.commits == 2)
        #expect(timedOut.names == ["change"])
    }
}

extension GroupWriterTests {
    /// The spin changes who waits, never what commits: the same changes, a fifth of them refused, sent
    /// from threads of their own while a transaction holds the writer, leave the same rows and get the
    /// same answers whether callers queue at once (0), watch briefly (200 µs) or watch until the end.
    /// Only the batching differs: queued changes share one transaction; callers that all watch (none of
    /// them queued, so none sees another waiting) take the writer one after another.
    @Test(arguments: [0, 200, 5_000_000])
    func spinningChangesNothingButWhoWaits(spinMicroseconds: Int) async throws {
        try await withTemporaryFolderAsync { folder in
            let (db, writer, commits, aborts) = try Self.started(in: folder, runsOnCallers: true)
            writer.spinMicroseconds = spinMicroseconds
            writer.maySpin = { true }
            let release = Flag()
            let holder = try await Self.holdWriter(writer, until: release)
            let sent = Counter()
            var changes: [Task<Bool, Never>] = []
            for i in 0..<24 {
                changes.append(
                    Task(executorPreference: ThreadExecutor()) {
                        sent.add()
                        do {
                            let id = try await writer.write { connection in
                                try connection.run("INSERT INTO rows (name) VALUES (?)", "change-\(i)")
                                if i % 5 == 0 { throw Refused() }
                                return connection.lastInsertRowID
                            }
                            // Committed, and so visible to another connection, when the caller resumes.
                            let seen = try? db.read { try $0.scalarInt("SELECT count(*) FROM rows WHERE id = ?", [id]) }
                            #expect(seen == 1, "change \(i)")
                            return true
                        } catch {
                            #expect(error is Refused, "change \(i): \(error)")
                            return false
                        }
                    })
            }
            try await Self.waitUntil { sent.value == 24 && (spinMicroseconds > 0 || writer.waitingChanges == 24) }
            release.set()
            try await holder.value
            var committed: [Bool] = []
            for change in changes { committed.append(await change.value) }
            #expect(committed == (0..<24).map { $0 % 5 != 0 })
            #expect(try Self.names(db) == Set((0..<24).filter { $0 % 5 != 0 }.map { "change-\($0)" }))
            #expect(aborts.value == 0)
            // The holder's transaction, then one for the queued changes, one per watching caller, or a mix.
            switch spinMicroseconds {
            case 0: #expect(writer.changesQueued == 24 && commits.value == 2)
            case 5_000_000: #expect(writer.changesQueued == 0 && commits.value == 25)
            default: #expect(commits.value >= 2 && commits.value <= 25)
            }
        }
    }
}

/// A task executor with one thread of its own, which ends when nothing refers to the executor.
private final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init() {
        Thread { [weak self] in
            while let job = self?.next() { job.runSynchronously(on: self!.asUnownedTaskExecutor()) }
        }.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func next() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty { condition.wait() }
        return jobs.removeFirst()
    }
}

private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

private final class Flag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
