import CSQLite
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Storage

/// `Database` on a temporary file per test: migrations, transactions, errors, rows, readers, backup.
@Suite struct StorageTests {
    /// Listed out of order on purpose: the migrator sorts them.
    static func migrations(recordingInto log: MigrationLog? = nil) -> [Migration] {
        [
            Migration(2, "add email") { connection in
                log?.append(2)
                try connection.execute(
                    "ALTER TABLE people ADD COLUMN email TEXT; CREATE UNIQUE INDEX people_email ON people (email)")
            },
            Migration(1, "create people") { connection in
                log?.append(1)
                try connection.execute("CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL)")
            },
        ]
    }

    // MARK: Migrations

    @Test func migrationsRunInVersionOrderAndAreRecorded() throws {
        try withTemporaryFolder { folder in
            let log = MigrationLog()
            let db = try Database(path: folder + "/m.sqlite", migrations: Self.migrations(recordingInto: log))
            #expect(log.versions == [1, 2])
            let rows = try db.read { connection in
                try connection.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
                    row in
                    (row.int(0), row.string(1), row.string(2))
                }
            }
            #expect(rows.map(\.0) == [1, 2])
            #expect(rows.map(\.1) == ["create people", "add email"])
            for (_, _, appliedAt) in rows {
                #expect(appliedAt.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(appliedAt)")
            }
            // Migration 2 ran after 1: its column exists.
            _ = try db.write {
                try $0.run("INSERT INTO people (id, name, email) VALUES (?, ?, ?)", "p1", "Ada", "ada@example.com")
            }
        }
    }

    @Test func reopeningAppliesOnlyNewMigrations() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/m.sqlite"
            let log = MigrationLog()
            do {
                let db = try Database(path: path, migrations: Self.migrations(recordingInto: log))
                _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES ('p1', 'Ada')") }
            }
            do {
                let db = try Database(path: path, migrations: Self.migrations(recordingInto: log))
                #expect(log.versions == [1, 2])
                #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 1)
            }
            let third = Migration(3, "index names") { connection in
                log.append(3)
                try connection.execute("CREATE INDEX people_name ON people (name)")
            }
            let db = try Database(path: path, migrations: Self.migrations(recordingInto: log) + [third])
            #expect(log.versions == [1, 2, 3])
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM schema_migrations") } == 3)
        }
    }

    @Test func databaseNewerThanTheCodeIsRefused() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/m.sqlite"
            _ = try Database(path: path, migrations: Self.migrations())
            let older = Self.migrations().filter { $0.version == 1 }
            let error = #expect(throws: Migrator.TooNew.self) { try Database(path: path, migrations: older) }
            #expect(error?.database == 2)
            #expect(error?.code == 1)
            #expect(error?.description.contains("newer") == true)
            #expect(throws: Migrator.TooNew.self) { try Database(path: path, migrations: []) }
        }
    }

    @Test func failingMigrationLeavesNoTrace() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/m.sqlite"
            let broken = Migration(3, "half done") { connection in
                try connection.execute("CREATE TABLE half (x INTEGER)")
                try connection.execute("THIS IS NOT SQL")
            }
            #expect(throws: SQLiteError.self) { try Database(path: path, migrations: Self.migrations() + [broken]) }
            let db = try Database(path: path, migrations: Self.migrations())
            try db.read { connection throws in
                #expect(try connection.scalarInt("SELECT max(version) FROM schema_migrations") == 2)
                #expect(try connection.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'half'") == 0)
            }
        }
    }

    // MARK: Transactions and errors

    @Test func writeIsRolledBackWhenItsBodyThrows() throws {
        try withDatabase { db in
            struct Refused: Error, Equatable {}
            #expect(throws: Refused()) {
                try db.write { connection in
                    try connection.run("INSERT INTO people (id, name) VALUES ('p1', 'Ada')")
                    #expect(try connection.scalarInt("SELECT count(*) FROM people") == 1)
                    throw Refused()
                }
            }
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 0)
            // The writer is usable again afterwards.
            _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES ('p2', 'Grace')") }
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 1)
        }
    }

    @Test func savepointUndoesOnlyItsOwnPart() throws {
        try withDatabase { db in
            try db.write { connection in
                try connection.run("INSERT INTO people (id, name) VALUES ('p1', 'Ada')")
                _ = try? connection.savepoint {
                    try connection.run("INSERT INTO people (id, name) VALUES ('p2', 'Grace')")
                    try connection.run("INSERT INTO people (id, name) VALUES ('p1', 'Again')")
                }
            }
            let ids = try db.read { try $0.query("SELECT id FROM people ORDER BY id") { $0.string(0) } }
            #expect(ids == ["p1"])
        }
    }

    @Test func uniqueViolationIsRecognisable() throws {
        try withDatabase { db in
            _ = try db.write {
                try $0.run("INSERT INTO people (id, name, email) VALUES (?, ?, ?)", "p1", "Ada", "ada@example.com")
            }

            let primaryKey = #expect(throws: SQLiteError.self) {
                _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES (?, ?)", "p1", "Other") }
            }
            #expect(primaryKey?.isUniqueViolation == true)
            #expect(primaryKey?.code == csqlite_constraint_primarykey)

            let unique = #expect(throws: SQLiteError.self) {
                _ = try db.write {
                    try $0.run("INSERT INTO people (id, name, email) VALUES (?, ?, ?)", "p2", "Eve", "ada@example.com")
                }
            }
            #expect(unique?.isUniqueViolation == true)
            #expect(unique?.code == csqlite_constraint_unique)
            #expect(unique?.sql?.contains("INSERT INTO people") == true)
            // Bound values may be personal data and never appear in the error.
            #expect(unique?.description.contains("ada@example.com") == false)

            let notNull = #expect(throws: SQLiteError.self) {
                _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES (?, ?)", "p3", String?.none) }
            }
            #expect(notNull?.isUniqueViolation == false)
            #expect(notNull.map { $0.code & 0xff } == SQLITE_CONSTRAINT)
        }
    }

    @Test func wrongParameterCountAndBadSQLAreErrors() throws {
        try withDatabase { db in
            let range = #expect(throws: SQLiteError.self) {
                _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES (?, ?)", "only one") }
            }
            #expect(range?.code == SQLITE_RANGE)
            let syntax = #expect(throws: SQLiteError.self) { try db.read { try $0.scalarInt("SELEC 1") } }
            #expect(syntax?.code == SQLITE_ERROR)
            #expect(syntax?.sql == "SELEC 1")
        }
    }

    /// Settings SQLite refuses inside a transaction (`temp_store`) hold for the transaction and are put
    /// back after it, also when it fails.
    @Test func writeWithSettingsPutsThemBack() throws {
        try withTemporaryFolder { folder in
            let db = try Database(path: folder + "/settings.sqlite", migrations: Self.migrations())
            let before = try db.write {
                try ($0.scalarInt("PRAGMA temp_store"), $0.scalarInt("PRAGMA wal_autocheckpoint"))
            }
            #expect(before.0 == 2, "the database keeps temporary data in memory")
            let inside = try db.write(settings: ["temp_store": 1, "wal_autocheckpoint": 0]) { connection in
                try connection.run("INSERT INTO people (id, name) VALUES ('1', ?)", "kept")
                return try (
                    connection.scalarInt("PRAGMA temp_store"), connection.scalarInt("PRAGMA wal_autocheckpoint")
                )
            }
            #expect(inside.0 == 1 && inside.1 == 0)
            let after = try db.write {
                try ($0.scalarInt("PRAGMA temp_store"), $0.scalarInt("PRAGMA wal_autocheckpoint"))
            }
            #expect(after == before)

            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try db.write(settings: ["temp_store": 1]) { connection in
                    try connection.run("INSERT INTO people (id, name) VALUES ('2', ?)", "rolled back")
                    throw Refused()
                }
            }
            #expect(try db.write { try $0.scalarInt("PRAGMA temp_store") } == 2)
            #expect(try db.read { try $0.query("SELECT name FROM people") { $0.string(0) } } == ["kept"])
        }
    }

    /// The last statement is reused without the cache; a different one in between still gets its own.
    @Test func alternatingStatementsEachRunTheirOwnSQL() throws {
        try withTemporaryFolder { folder in
            let db = try Database(path: folder + "/alternate.sqlite", migrations: Self.migrations())
            try db.write { connection in
                for index in 0..<3 {
                    try connection.run("INSERT INTO people (id, name) VALUES (?, ?)", "\(index)a", "a\(index)")
                    try connection.run("INSERT INTO people (id, name) VALUES (?, upper(?))", "\(index)b", "b\(index)")
                    // Same text, built at run time (not the literal's storage): still the same statement.
                    let rebuilt = String("INSERT INTO people (id, name) VALUES (?, ?)".reversed().reversed())
                    try connection.run(rebuilt, "\(index)c", "c\(index)")
                }
            }
            let names = try db.read { try $0.query("SELECT name FROM people ORDER BY rowid") { $0.string(0) } }
            #expect(names == ["a0", "B0", "c0", "a1", "B1", "c1", "a2", "B2", "c2"])
        }
    }

    // MARK: Rows

    @Test func columnsDecodeToTheirTypes() throws {
        try withTemporaryFolder { folder in
            let db = try Database(
                path: folder + "/types.sqlite",
                migrations: [
                    Migration(1, "values") {
                        try $0.execute(
                            "CREATE TABLE v (t TEXT, i INTEGER, big INTEGER, r REAL, b INTEGER, x BLOB, n TEXT)")
                    }
                ])
            let text = "héllo \"world\" ✓ 👩‍💻"
            let blob: [UInt8] = [0, 1, 2, 127, 128, 255]
            try db.write { connection in
                let changed = try connection.run(
                    "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", text, -42, Int64.min, 3.25, true, SQLValue.blob(blob),
                    String?.none)
                #expect(changed == 1)
                #expect(connection.lastInsertRowID == 1)
                try connection.run(
                    "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", "", 0, Int64.max, -0.5, false, SQLValue.blob([]), "n")
            }
            let rows = try db.read { connection in
                try connection.query("SELECT t, i, big, r, b, x, n FROM v ORDER BY rowid") { row in
                    #expect(row.columnCount == 7)
                    return DecodedRow(
                        text: row.string(0), int: row.int(1), big: row.int64(2), real: row.double(3), bool: row.bool(4),
                        bytes: row.bytes(5), optionalText: row.optionalString(6), optionalInt: row.optionalInt(6),
                        isNull: row.isNull(6))
                }
            }
            #expect(
                rows == [
                    DecodedRow(
                        text: text, int: -42, big: .min, real: 3.25, bool: true, bytes: blob, optionalText: nil,
                        optionalInt: nil, isNull: true),
                    DecodedRow(
                        text: "", int: 0, big: .max, real: -0.5, bool: false, bytes: [], optionalText: "n",
                        optionalInt: 0,
                        isNull: false),
                ])
        }
    }

    @Test func textWithAnEmbeddedNULIsStoredWhole() throws {
        try withDatabase { db in
            let name = "before\u{0}after"
            _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES (?, ?)", "p1", name) }
            #expect(try db.read { try $0.first("SELECT name FROM people") { $0.string(0) } } == name)
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people WHERE name = ?", ["before"]) } == 0)
        }
    }

    @Test func forEachVisitsEveryRowInOrder() throws {
        try withDatabase { db in
            try db.write { connection in
                for i in 0..<20 {
                    try connection.run(
                        "INSERT INTO people (id, name) VALUES (?, ?)", String(format: "p%02d", i), "n\(i)")
                }
            }
            var seen: [String] = []
            try db.read {
                try $0.forEach("SELECT id FROM people WHERE id >= ? ORDER BY id", ["p10"]) { seen.append($0.string(0)) }
            }
            #expect(seen == (10..<20).map { String(format: "p%02d", $0) })
        }
    }

    // MARK: Concurrency

    @Test func readerSeesTheLastCommitWhileAWriteIsOpen() throws {
        try withDatabase { db in
            _ = try db.write { try $0.run("INSERT INTO people (id, name) VALUES ('p1', 'Ada')") }
            try db.write { connection in
                try connection.run("INSERT INTO people (id, name) VALUES ('p2', 'Grace')")
                // WAL: a reader is not blocked by the open write and does not see it.
                #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 1)
            }
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 2)
        }
    }

    @Test func concurrentReadersNeverSeeHalfATransaction() throws {
        try withDatabase(maxReaders: 3) { db throws in
            let transactions = 150
            let state = ConcurrencyState()
            let group = DispatchGroup()
            func spawn(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    do { try body() } catch { state.fail("\(name): \(error)") }
                }
                thread.start()
            }
            spawn("writer") {
                defer { state.writerDone.store(true, ordering: .releasing) }
                for i in 0..<transactions {
                    try db.write { connection in
                        // Each transaction adds two rows; a reader must see both or neither.
                        try connection.run("INSERT INTO people (id, name) VALUES (?, 'a')", "a\(i)")
                        try connection.run("INSERT INTO people (id, name) VALUES (?, 'b')", "b\(i)")
                    }
                }
            }
            for reader in 0..<5 {
                spawn("reader \(reader)") {
                    var last = 0
                    var reads = 0
                    while !state.writerDone.load(ordering: .acquiring) || reads < 20 {
                        let count = try db.read { try $0.scalarInt("SELECT count(*) FROM people") } ?? -1
                        if count % 2 != 0 || count < last { state.fail("reader \(reader) saw \(count) after \(last)") }
                        last = count
                        reads += 1
                    }
                }
            }
            group.wait()
            #expect(state.failures.isEmpty, "\(state.failures)")
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 2 * transactions)
        }
    }

    @Test func pageSizeAppliesToANewFileAndAnExistingOneKeepsItsOwn() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/pages.sqlite"
            let created = try Database(path: path, migrations: Self.migrations(), pageSize: 1024)
            #expect(try created.read { try $0.scalarInt("PRAGMA page_size") } == 1024)
            try created.write { try $0.run("INSERT INTO people (id, name) VALUES ('p1', 'Ann')") }
            let reopened = try Database(path: path, migrations: Self.migrations(), pageSize: 8192)
            #expect(try reopened.read { try $0.scalarInt("PRAGMA page_size") } == 1024)
            #expect(try reopened.read { try $0.scalarInt("SELECT count(*) FROM people") } == 1)
            let standard = try Database(path: folder + "/default.sqlite", migrations: Self.migrations())
            #expect(try standard.read { try $0.scalarInt("PRAGMA page_size") } == 4096)
        }
    }

    // MARK: After commit

    @Test func afterCommitActionsRunOnceCommittedAndNeverForWhatWasRolledBack() throws {
        try withDatabase { db in
            let log = MigrationLog()
            let observed = Atomic<Int>(0)
            db.observeCommits { observed.add(1, ordering: .relaxed) }
            try db.write { connection in
                try connection.run("INSERT INTO people (id, name) VALUES ('a', 'A')")
                connection.afterCommit {
                    // Runs after COMMIT: a reader already sees the row.
                    let seen = (try? db.read { try $0.scalarInt("SELECT count(*) FROM people WHERE id = 'a'") }) ?? 0
                    log.append(seen == 1 ? 1 : -1)
                }
                #expect(log.versions.isEmpty, "not before the commit")
            }
            #expect(log.versions == [1])
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try db.write { connection in
                    connection.afterCommit { log.append(2) }
                    throw Abort()
                }
            }
            try db.write { connection in
                _ = try? connection.savepoint { () throws -> Void in
                    connection.afterCommit { log.append(3) }
                    throw Abort()
                }
                connection.afterCommit { log.append(4) }
            }
            #expect(log.versions == [1, 4], "a rolled-back transaction or savepoint runs none of its actions")
            #expect(observed.load(ordering: .relaxed) == 2, "observers run for each committed transaction only")
        }
    }

    @Test func afterCommitActionsOfAGroupWriterChangeRunOnlyIfItsOwnSavepointSurvived() async throws {
        struct Refused: Error {}
        try await withTemporaryFolderAsync { folder in
            let db = try Database(path: folder + "/group.sqlite", migrations: StorageTests.migrations())
            let writer = GroupWriter(db: db) { $0 is Refused }
            writer.start()
            let log = MigrationLog()
            try await writer.write { connection in
                try connection.run("INSERT INTO people (id, name) VALUES ('kept', 'K')")
                connection.afterCommit { log.append(1) }
            }
            await #expect(throws: Refused.self) {
                try await writer.write { connection in
                    try connection.run("INSERT INTO people (id, name) VALUES ('undone', 'U')")
                    connection.afterCommit { log.append(2) }
                    throw Refused()
                }
            }
            #expect(log.versions == [1])
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM people") } == 1)
        }
    }

    // MARK: Checkpoints

    /// Under steady writes a PASSIVE checkpoint never copies the whole WAL, so SQLite alone never starts
    /// it over; a background pass past `rewindFrames` must, while the writes go on.
    @Test func backgroundPassRewindsALongWALWhileWritesGoOn() throws {
        try withTemporaryFolder { folder in
            let blobs = Migration(1, "blobs") {
                try $0.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            }
            let db = try Database(
                path: folder + "/wal.sqlite", migrations: [blobs], rewindFrames: 500, checkpointInterval: nil)
            let state = ConcurrencyState()
            let written = Atomic<Int>(0)
            let finished = DispatchSemaphore(value: 0)
            Thread {
                defer { finished.signal() }
                while !state.writerDone.load(ordering: .relaxed) {
                    do {
                        try db.write { try $0.run("INSERT INTO blobs (data) VALUES (zeroblob(3000))") }
                    } catch {
                        state.fail("write: \(error)")
                        return
                    }
                    written.add(1, ordering: .relaxed)
                    usleep(500)  // steady, not flat out: frames counted after the rewind stay few
                }
            }.start()
            defer {
                state.writerDone.store(true, ordering: .relaxed)
                finished.wait()
            }
            func waitFor(_ what: String, _ condition: () -> Bool) -> Bool {
                let deadline = Date().addingTimeInterval(20)
                while !condition() {
                    guard Date() < deadline, state.failures.isEmpty else { return false }
                    usleep(1000)
                }
                return true
            }
            // nil while the writer's own checkpoint (at 4 × 500 frames) runs.
            func frames() -> Int? {
                var frames: Int?
                _ = waitFor("a checkpoint") {
                    frames = db.walFrames()
                    return frames != nil
                }
                return frames
            }
            // Each look is a PASSIVE checkpoint, which may copy everything and let the next write start
            // the WAL over: look less and less often, so the WAL gets the time to grow between looks.
            var pause: useconds_t = 20_000
            try #require(
                waitFor("a long WAL") {
                    usleep(pause)
                    pause = min(pause * 2, 1_000_000)
                    return (db.walFrames() ?? 0) >= 700
                })
            let before = try #require(frames())
            db.backgroundPass()
            let mark = written.load(ordering: .relaxed)
            try #require(waitFor("more writes") { written.load(ordering: .relaxed) >= mark + 3 })
            let after = try #require(frames())
            #expect(after < before, "the WAL grew from \(before) to \(after) frames: it was not rewound")
            #expect(state.failures.isEmpty, "\(state.failures)")
            // Everything written is in the database, and the file is intact.
            let rows = try db.read { try $0.scalarInt("SELECT count(*) FROM blobs") } ?? 0
            #expect(rows >= mark)
            #expect(try db.read { try $0.first("PRAGMA integrity_check") { $0.string(0) } } == "ok")
        }
    }

    /// Closing any descriptor of a file drops every POSIX lock the process holds on it, so a rewind
    /// that synced the main file through a descriptor of its own released the SHARED lock SQLite holds
    /// in WAL mode: the next outside connection then thought itself the last user and deleted the live
    /// WAL. After passes that rewind, the process still holds its lock on the file.
    @Test func rewindingTheWALKeepsTheProcessLockOnTheDatabaseFile() throws {
        try withTemporaryFolder { folder in
            let blobs = Migration(1, "blobs") {
                try $0.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            }
            let path = folder + "/locked.sqlite"
            let db = try Database(path: path, migrations: [blobs], rewindFrames: 8, checkpointInterval: nil)
            #expect(try heldLocks(on: path) > 0, "SQLite holds a lock on a WAL database it has open")
            for round in 1...3 {
                try db.write { connection in
                    for _ in 0..<20 { try connection.run("INSERT INTO blobs (data) VALUES (zeroblob(3000))") }
                }
                db.backgroundPass()
                #expect(db.walRewinds == round, "pass \(round) rewound the WAL")
                #expect(try heldLocks(on: path) > 0, "after rewind \(round), /proc/locks shows no lock of this process")
            }
            #expect(try db.read { try $0.scalarInt("SELECT count(*) FROM blobs") } == 60)
            // The sync itself goes through SQLite's own descriptor and succeeds.
            let connection = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: 100)
            #expect(connection.syncDatabaseFile())
            #expect(try heldLocks(on: path) > 0)
        }
    }

    /// The timed background passes copy committed pages into the main file by themselves, from a
    /// thread of their own at nice 5 (below the threads that serve requests).
    @Test func timedPassesCopyTheWALFromALowerPriorityThread() throws {
        try withTemporaryFolder { folder in
            let blobs = Migration(1, "blobs") {
                try $0.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            }
            let path = folder + "/timed.sqlite"
            let db = try Database(path: path, migrations: [blobs], checkpointInterval: .milliseconds(20))
            let sizeBefore = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            try db.write { connection in
                for _ in 0..<100 { try connection.run("INSERT INTO blobs (data) VALUES (zeroblob(4000))") }
            }
            // Nobody checkpoints here: only a timed pass can grow the main file by those 400 KB.
            let deadline = Date().addingTimeInterval(10)
            var size = sizeBefore
            while size < sizeBefore + 400_000 && Date() < deadline {
                usleep(10_000)
                size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            }
            #expect(size >= sizeBefore + 400_000, "main file \(sizeBefore) → \(size) bytes")
            let nices = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
                // Field 19 of stat is the nice value; the command name (field 2) may hold spaces.
                let stat = try String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8)
                return stat.split(separator: ")").last?.split(separator: " ").dropFirst(16).first.flatMap { Int($0) }
            }
            #expect(nices.contains(5), "thread nice values: \(nices)")
            withExtendedLifetime(db) {}
        }
    }

    // MARK: Backup

    @Test func backupIsAnIntactCopyOfCommittedData() throws {
        try withTemporaryFolder { folder in
            let log = MigrationLog()
            let db = try Database(path: folder + "/live.sqlite", migrations: Self.migrations(recordingInto: log))
            try db.write { connection in
                for i in 0..<500 {
                    try connection.run("INSERT INTO people (id, name) VALUES (?, ?)", "p\(i)", "name \(i)")
                }
            }
            let copy = folder + "/backup.sqlite"
            try db.write { connection in
                // Uncommitted at backup time: must not be in the copy.
                try connection.run("INSERT INTO people (id, name) VALUES ('late', 'Late')")
                try db.backup(to: copy)
            }
            let connection = try Connection(path: copy, readOnly: true, busyTimeoutMilliseconds: 1000)
            #expect(try connection.first("PRAGMA integrity_check") { $0.string(0) } == "ok")
            #expect(try connection.scalarInt("SELECT count(*) FROM people") == 500)
            #expect(try connection.scalarInt("SELECT count(*) FROM people WHERE id = 'late'") == 0)
            #expect(try connection.scalarInt("SELECT max(version) FROM schema_migrations") == 2)
            // The copy opens as a migrated database: nothing is applied again.
            let restored = try Database(path: copy, migrations: Self.migrations(recordingInto: log))
            #expect(log.versions == [1, 2])
            #expect(try restored.read { try $0.scalarInt("SELECT count(*) FROM people") } == 500)
        }
    }
}

/// Which migration closures ran, in order.
final class MigrationLog: Sendable {
    private let storage = Mutex<[Int]>([])
    func append(_ version: Int) { storage.withLock { $0.append(version) } }
    var versions: [Int] { storage.withLock { $0 } }
}

final class ConcurrencyState: Sendable {
    let writerDone = Atomic<Bool>(false)
    private let messages = Mutex<[String]>([])
    func fail(_ message: String) { messages.withLock { $0.append(message) } }
    var failures: [String] { messages.withLock { $0 } }
}

struct DecodedRow: Equatable {
    var text: String
    var int: Int
    var big: Int64
    var real: Double
    var bool: Bool
    var bytes: [UInt8]
    var optionalText: String?
    var optionalInt: Int?
    var isNull: Bool
}

/// How many POSIX locks `/proc/locks` lists for this process on the file at `path` (matched by inode).
private func heldLocks(on path: String) throws -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(.ENOENT) }
    let pid = String(getpid())
    let inode = ":\(info.st_ino)"
    // "1: POSIX  ADVISORY  READ 4242 fd:01:1234567 1073741826 1073742335"
    return try String(contentsOfFile: "/proc/locks", encoding: .utf8).split(separator: "\n").filter { line in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count >= 6 && fields[1] == "POSIX" && fields[4] == pid && fields[5].hasSuffix(inode)
    }.count
}

/// Runs `body` with a migrated database (`StorageTests.migrations()`) in a temporary folder.
private func withDatabase(maxReaders: Int = 8, _ body: (Database) throws -> Void) throws {
    try withTemporaryFolder { folder in
        let db = try Database(
            path: folder + "/test.sqlite", migrations: StorageTests.migrations(), maxReaders: maxReaders)
        try body(db)
    }
}

/// `SQLConditions`: clauses joined by AND, their values in the order the clauses were added.
@Suite struct SQLConditionsTests {
    @Test func clausesAndValuesStayInStep() throws {
        var conditions = SQLConditions("spam = ?", false)
        conditions.add("status = ?", "open")
        conditions.add("contact_id IN (SELECT ? UNION SELECT source_id FROM merges WHERE target_id = ?)", "c1", "c1")
        conditions.add("seq < ?", Int64(42))
        #expect(
            conditions.sql
                == "spam = ? AND status = ? AND contact_id IN (SELECT ? UNION SELECT source_id FROM merges WHERE target_id = ?) AND seq < ?"
        )
        #expect(conditions.values.count == 5)
        // The values bind to the `?`s in order: a real query over them finds the row.
        try withTemporaryFolder { folder in
            let db = try Database(
                path: folder + "/c.sqlite",
                migrations: [
                    Migration(1, "t") {
                        try $0.execute(
                            """
                            CREATE TABLE t (seq INTEGER PRIMARY KEY, spam INTEGER, status TEXT, contact_id TEXT);
                            CREATE TABLE merges (source_id TEXT, target_id TEXT);
                            INSERT INTO t VALUES (7, 0, 'open', 'c1'), (8, 1, 'open', 'c1'), (50, 0, 'open', 'c1');
                            """)
                    }
                ])
            let found = try db.read {
                try $0.query("SELECT seq FROM t WHERE \(conditions.sql)", conditions.values) { $0.int(0) }
            }
            #expect(found == [7])
        }
    }
}
