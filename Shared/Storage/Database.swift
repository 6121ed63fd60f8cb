import Foundation
import Synchronization

/// A SQLite database in WAL mode: one writer connection and a pool of reader connections.
///
/// Invariant that makes it `@unchecked Sendable`: every `Connection` is used by one thread at a time.
/// The writer is only touched while `writeLock` is held; a reader is removed from `idleReaders` under
/// `readerCondition` before use and put back after.
///
/// WAL checkpoints: a background connection copies committed frames into the main file every 100 ms
/// (PASSIVE: it never waits for anyone). Often and small on purpose: each pass fsyncs the WAL, and
/// a commit appending to a WAL page under writeback waits for that I/O, so one large fsync stalls
/// every request behind the writer for tens of milliseconds where a small one costs a few (measured
/// under routing load: passes every 1 s gave p99 46–105 ms, every 100 ms 10 ms). Under a steady
/// stream of writes those passes never finish — new frames arrive while they copy — so the WAL would
/// never start over and grow without bound (3 GB in a minute of routing load, every read probing a
/// huge WAL index). The writer therefore also checkpoints once the WAL passes 16,384 pages (64 MiB),
/// inside the commit that crossed it and under the write lock: the background passes have copied
/// nearly everything by then, the writer copies the rest with no writer racing it, and the next
/// transaction rewinds the WAL to its start.
public final class Database: @unchecked Sendable {
    public let path: String
    private let writer: Connection
    private let writeLock = NSLock()
    private let writersWaiting = Atomic<Int>(0)
    private let readerCondition = NSCondition()
    private var idleReaders: [Connection] = []
    private var openReaders = 0
    private let maxReaders: Int
    private let checkpointer: Connection
    private let checkpointLock = NSLock()
    private var checkpointTimer: (any DispatchSourceTimer)?

    /// Opens (creating if needed) and migrates the database.
    /// - Parameters:
    ///   - maxReaders: most concurrent read connections; default 8.
    ///   - busyTimeoutMilliseconds: how long a connection waits for a lock; default 5 s.
    public init(
        path: String, migrations: [Migration], maxReaders: Int = 8, busyTimeoutMilliseconds: Int32 = 5000
    ) throws {
        self.path = path
        self.maxReaders = max(1, maxReaders)
        writer = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try writer.execute(
            """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA foreign_keys=ON;
            PRAGMA wal_autocheckpoint=16384;
            PRAGMA temp_store=MEMORY;
            """)
        try Migrator.migrate(writer, migrations)
        checkpointer = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: 0)
        startCheckpoints()
    }

    deinit { checkpointTimer?.cancel() }

    /// Runs `body` in a read transaction on a pooled reader; sees the last committed state.
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try checkoutReader()
        defer { checkinReader(connection) }
        // Prepared once per connection (`run`), not parsed on every read as `execute` would.
        try connection.run("BEGIN")
        defer { _ = try? connection.run("COMMIT") }
        return try body(connection)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction on the single writer; rolled back if it throws.
    @discardableResult
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        writersWaiting.add(1, ordering: .relaxed)
        writeLock.lock()
        writersWaiting.subtract(1, ordering: .relaxed)
        defer { writeLock.unlock() }
        try writer.run("BEGIN IMMEDIATE")
        do {
            let value = try body(writer)
            try writer.run("COMMIT")
            return value
        } catch {
            _ = try? writer.run("ROLLBACK")
            throw error
        }
    }

    /// Whether another thread is blocked in `write`, waiting for the transaction that runs now. Lets a
    /// `write` body that could go on (a bulk import spanning many batches) commit early and let it in.
    public var isWriterWaiting: Bool { writersWaiting.load(ordering: .relaxed) > 0 }

    /// Copies a consistent snapshot of the live database into `destination` with SQLite's online
    /// backup API, from a reader in one step, so writers are not blocked.
    public func backup(to destination: String) throws {
        let connection = try checkoutReader()
        defer { checkinReader(connection) }
        try connection.backup(to: destination)
    }

    /// Checkpoints the WAL into the main file; `truncate` on shutdown, `PASSIVE` from the timer.
    public func checkpoint(truncate: Bool = false) {
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        try? checkpointer.execute(truncate ? "PRAGMA wal_checkpoint(TRUNCATE)" : "PRAGMA wal_checkpoint(PASSIVE)")
    }

    private func startCheckpoints() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "sqlite.checkpoint"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in
            // PASSIVE never waits for readers or the writer; it copies what it can.
            self?.checkpoint()
        }
        timer.resume()
        checkpointTimer = timer
    }

    private func checkoutReader() throws -> Connection {
        readerCondition.lock()
        while idleReaders.isEmpty && openReaders >= maxReaders { readerCondition.wait() }
        if let reader = idleReaders.popLast() {
            readerCondition.unlock()
            return reader
        }
        openReaders += 1
        readerCondition.unlock()
        do {
            let reader = try Connection(path: path, readOnly: true, busyTimeoutMilliseconds: 5000)
            return reader
        } catch {
            readerCondition.lock()
            openReaders -= 1
            readerCondition.signal()
            readerCondition.unlock()
            throw error
        }
    }

    private func checkinReader(_ connection: Connection) {
        readerCondition.lock()
        idleReaders.append(connection)
        readerCondition.signal()
        readerCondition.unlock()
    }
}
