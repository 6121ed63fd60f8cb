import CSystem
import Foundation
import Synchronization

/// A SQLite database in WAL mode: one writer connection and a pool of reader connections.
///
/// Invariant that makes it `@unchecked Sendable`: every `Connection` is used by one thread at a time.
/// The writer is only touched while `writeLock` is held; a reader is removed from `idleReaders` under
/// `readerCondition` before use and put back after.
///
/// WAL checkpoints: a background connection copies committed frames into the main file every 100 ms
/// (PASSIVE: it never waits for anyone). Often and small on purpose: each pass fsyncs the WAL it
/// copies from, and a large fsync stalls the commits behind it (measured under routing load: passes
/// every 1 s gave p99 46–105 ms, every 100 ms 10 ms; see BENCHMARKS.md). Under a steady stream of
/// writes those passes never finish — new frames arrive while they copy — so the WAL would never start
/// over and grow without bound, every read probing a huge WAL index (measured: 3 GB in a minute of
/// routing load; see BENCHMARKS.md). Once the WAL
/// passes `rewindFrames`, a background pass therefore also rewinds it: two more unlocked passes, each
/// followed by a sync of the main file, shrink what is left; then, holding the write lock so no frame
/// arrives meanwhile, a `RESTART` checkpoint copies the last few frames and the next transaction writes
/// the WAL from its start. Commits wait only for that short last step (a few hundred frames and two
/// small fsyncs), not for a checkpoint of whatever piled up, as they did when the writer checkpointed
/// at 64 MiB inside its own commit (`Benchmarks/routing.sh`; BENCHMARKS.md, "Routing decisions": "WAL
/// rewinds without a stall"). The writer still checkpoints at 4 × `rewindFrames`, in case the
/// background passes cannot keep up.
public final class Database: @unchecked Sendable {
    /// WAL length in frames (a page each) past which a background pass rewinds the WAL.
    let rewindFrames: Int

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
    private let rewinds = Atomic<Int>(0)
    private let commitObservers = Mutex<CommitObservers?>(nil)
    /// The device and inode of the file this opened, to notice it being deleted or replaced.
    private let fileIdentity: FileIdentity?

    private struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    /// Opens (creating if needed) and migrates the database.
    /// - Parameters:
    ///   - maxReaders: most concurrent read connections; default 8.
    ///   - busyTimeoutMilliseconds: how long a connection waits for a lock; default 5 s.
    ///   - rewindFrames: WAL length in frames at which background passes rewind it; default 16,384
    ///     (64 MiB of 4 KiB pages).
    ///   - checkpointInterval: time between background passes; nil runs none (tests run them by hand).
    ///   - pageSize: page size in bytes of a database this creates (a power of two, 512–65,536); an
    ///     existing file keeps its own. Small pages suit many small random writes: a commit writes
    ///     every page it dirtied, whole, to the WAL.
    /// - Throws: `SQLiteError` when the file cannot be opened, cannot be written by this process
    ///   (code `SQLiteError.readOnly`), or a migration fails.
    public init(
        path: String, migrations: [Migration], maxReaders: Int = 8, busyTimeoutMilliseconds: Int32 = 5000,
        rewindFrames: Int = 16_384, checkpointInterval: DispatchTimeInterval? = .milliseconds(100), pageSize: Int = 4096
    ) throws {
        precondition(pageSize >= 512 && pageSize <= 65_536 && pageSize & (pageSize - 1) == 0, "page size \(pageSize)")
        self.path = path
        self.rewindFrames = max(1, rewindFrames)
        self.maxReaders = max(1, maxReaders)
        writer = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        // Refused at once: opened read-only, the database would answer reads and report ready while
        // every write failed.
        guard !writer.isReadOnly else {
            throw SQLiteError(code: SQLiteError.readOnly, message: "the file is read-only to this process")
        }
        try writer.execute(
            """
            PRAGMA page_size=\(pageSize);
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA foreign_keys=ON;
            PRAGMA wal_autocheckpoint=\(4 * max(1, rewindFrames));
            PRAGMA temp_store=MEMORY;
            """)
        try Migrator.migrate(writer, migrations)
        checkpointer = try Connection(path: path, readOnly: false, busyTimeoutMilliseconds: 0)
        fileIdentity = Self.identity(of: path)
        if let checkpointInterval { startCheckpoints(every: checkpointInterval) }
    }

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
        try write(settings: [:], body)
    }

    /// `write` with integer `PRAGMA`s that SQLite will not change inside a transaction set on the writer
    /// before it begins, and put back after it ends — e.g. `["temp_store": 1, "wal_autocheckpoint": 0]`
    /// for a bulk load that sorts on disk rather than in memory and leaves its WAL to the background pass.
    @discardableResult
    public func write<T>(settings: KeyValuePairs<String, Int>, _ body: (Connection) throws -> T) throws -> T {
        writersWaiting.add(1, ordering: .relaxed)
        writeLock.lock()
        writersWaiting.subtract(1, ordering: .relaxed)
        defer { writeLock.unlock() }
        var previous: [(name: String, value: Int)] = []
        defer { for (name, value) in previous.reversed() { try? writer.execute("PRAGMA \(name)=\(value)") } }
        for (name, value) in settings {
            precondition(name.allSatisfy { $0 == "_" || ($0.isASCII && $0.isLetter) }, "not a pragma name: \(name)")
            guard let old = try writer.scalarInt("PRAGMA \(name)") else {
                throw SQLiteError(code: SQLiteError.genericError, message: "PRAGMA \(name) has no value")
            }
            try writer.execute("PRAGMA \(name)=\(value)")
            previous.append((name, old))
        }
        try writer.run("BEGIN IMMEDIATE")
        let value: T
        do {
            value = try body(writer)
            try writer.run("COMMIT")
        } catch {
            _ = try? writer.run("ROLLBACK")
            writer.discardCommittedActions()
            throw error
        }
        // Still holding the write lock: no other transaction has begun since this one committed.
        writer.runCommittedActions()
        if let observers = commitObservers.withLock({ $0 }) { observers.run() }
        return value
    }

    /// Registers `observer` to run after every committed write transaction, on the committing thread,
    /// before the next transaction begins (e.g. the outbox waking its dispatcher for new entries).
    public func observeCommits(_ observer: @escaping @Sendable () -> Void) {
        commitObservers.withLock { $0 = CommitObservers(($0?.all ?? []) + [observer]) }
    }

    /// The observers in a class: closures kept directly in a `Mutex` are re-wrapped in reabstraction
    /// thunks each time they are read back.
    private final class CommitObservers: Sendable {
        let all: [@Sendable () -> Void]
        init(_ all: [@Sendable () -> Void]) { self.all = all }
        func run() { for observer in all { observer() } }
    }

    /// Runs `handler` once, from the background passes, when the file at `path` is no longer the one
    /// this opened (deleted or replaced): for the service to say so loudly.
    public func onFileMissing(_ handler: @escaping @Sendable () -> Void) {
        fileMissingHandler.withLock { $0 = Handler(handler) }
    }

    private final class Handler: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let fileMissingHandler = Mutex<Handler?>(nil)

    /// Whether the file at `path` is still the one this opened. Deleted or replaced under a running
    /// service, writes would still succeed — into a file no restart will find — so the service must
    /// stop saying it is ready (`/readyz`) and say why.
    public var isFileInPlace: Bool {
        guard let fileIdentity else { return false }
        return Self.identity(of: path) == fileIdentity
    }

    private static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Whether the database answers a read: the migrations table can be read (for `/readyz`).
    public func isReadable() -> Bool {
        (try? read { try $0.scalarInt("SELECT count(*) FROM schema_migrations") }) != nil
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

    /// One background pass: copies what it can without waiting, and rewinds a long WAL (type doc).
    /// Internal so tests can run one at a chosen moment.
    func backgroundPass() {
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        guard let frames = passiveCheckpoint(), frames >= rewindFrames else { return }
        // Two more unlocked rounds of copying and syncing leave the locked step only the frames of
        // the last few milliseconds, so commits wait for a short step (traced: BENCHMARKS.md, "WAL rewinds
        // without a stall").
        for _ in 0..<2 {
            _ = passiveCheckpoint()
            syncMainFile()
        }
        writeLock.lock()
        defer { writeLock.unlock() }
        // Busy (a reader still on an old snapshot) only means the rewind waits for a later pass;
        // everything committed has been copied either way.
        let busy = try? checkpointer.first("PRAGMA wal_checkpoint(RESTART)", [], { $0.int(0) })
        if busy == 0 { rewinds.add(1, ordering: .relaxed) }
    }

    /// How many times a background pass has rewound the WAL since this opened (for `/metrics`).
    public var walRewinds: Int { rewinds.load(ordering: .relaxed) }

    /// The WAL's length in frames after a PASSIVE checkpoint, nil if it could not run (for tests).
    func walFrames() -> Int? {
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        return passiveCheckpoint()
    }

    /// Writes the main file's dirty pages to disk. PASSIVE passes copy frames into it without syncing
    /// it (SQLite syncs the main file only when a pass copies the whole WAL, which under steady writes
    /// never happens: traced, the passes synced only the WAL), so the rewind's own sync would otherwise
    /// flush a second's worth of copies while holding the write lock.
    ///
    /// Synced through SQLite's own descriptor, never one of ours: closing any descriptor of a file
    /// releases every POSIX lock the process holds on it, and without its SHARED lock the next outside
    /// connection (a `sqlite3` shell, a backup, a restore) takes itself for the last user and deletes
    /// the live WAL.
    private func syncMainFile() {
        _ = checkpointer.syncDatabaseFile()
    }

    /// A PASSIVE checkpoint; the WAL's length in frames, nil if it could not run (SQLite answers -1
    /// while the writer's own checkpoint runs).
    private func passiveCheckpoint() -> Int? {
        guard let frames = try? checkpointer.first("PRAGMA wal_checkpoint(PASSIVE)", [], { $0.int(1) }), frames >= 0
        else {
            return nil
        }
        return frames
    }

    /// Background passes run on a thread of their own at a lower CPU priority (nice 5): a pass copies
    /// a hundred milliseconds of commits — megabytes under load — and on a dispatch timer (whose
    /// thread ran at nice −4, above the event loops) it took a core from them at the start of every
    /// pass, and slow decisions clustered there (`Benchmarks/routing.sh`; BENCHMARKS.md, "Routing
    /// decisions": "the checkpoint thread outranked the event loops"). It still gets its share of an idle
    /// or evenly loaded machine.
    private func startCheckpoints(every interval: DispatchTimeInterval) {
        let microseconds: UInt32 =
            switch interval {
            case .seconds(let value): UInt32(clamping: value * 1_000_000)
            case .milliseconds(let value): UInt32(clamping: value * 1_000)
            case .microseconds(let value): UInt32(clamping: value)
            case .nanoseconds(let value): UInt32(clamping: value / 1_000)
            case .never: 0
            @unknown default: 100_000
            }
        guard microseconds > 0 else { return }
        let thread = Thread { [weak self] in
            _ = csystem_nice_this_thread(5)
            var pass = 0
            var reported = false
            // Ends at the first wake-up after the database is gone.
            while true {
                usleep(microseconds)
                guard let self else { return }
                self.backgroundPass()
                // About once a second: is the file still the one we write to? Said once.
                pass += 1
                if pass % 10 == 0, !reported, !self.isFileInPlace {
                    reported = true
                    self.fileMissingHandler.withLock { $0 }?.run()
                }
            }
        }
        thread.start()
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
