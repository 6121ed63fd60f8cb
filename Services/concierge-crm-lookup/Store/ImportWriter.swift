import ConciergeModels
import Foundation
import Storage

/// The writer thread of an import: applies prepared batches in order while the import's reading thread
/// parses the next ones, so parsing and SQLite run on both cores. At most two batches wait, which bounds
/// memory; the first failure stops the writer and reaches the reader.
///
/// **Into an empty directory** (a first load) the import is one transaction that drops the e-mail and
/// phone indexes, appends every row whose keys the reader had not seen before (`ImportKeyFilter`), then
/// builds the indexes by sorting and applies the held-back rows as ordinary upserts, in line order. A
/// held-back row can only touch rows before it, which are all in by then, so the outcome is the same
/// as row by row. Inserting a shuffled file into two live indexes costs a random B-tree descent and a
/// dirty page per key (measured: 13.5 s for 1,000,000 customers; see BENCHMARKS.md); appending and
/// sorting once costs far less (`Benchmarks/crm.sh`, `SHUFFLE=1`; BENCHMARKS.md, "CRM-lookup"). Other
/// writes to the directory wait until it commits; readers see the empty directory
/// until then. More than `heldBackLimit` held-back rows end the bulk load early (indexes built, rows
/// applied, committed) and the rest goes the ordinary way, so a file of repeats cannot fill memory.
/// Until the commit the WAL holds the whole load (about the directory's size again on disk).
///
/// **Otherwise** batches share transactions: one commits after `rowsPerTransaction` rows, as soon as another writer
/// waits for the lock (a single upsert waits for one batch, not for the whole transaction), when the
/// upload pauses for 50 ms, or when the import ends. A commit writes every page it dirtied to the WAL, and a file in random e-mail/phone
/// order dirties a page of each index per row, so fewer, larger commits write far fewer bytes (with
/// `ImportCache`; `Benchmarks/crm.sh`, BENCHMARKS.md "CRM-lookup"). What committed stays if the import is
/// interrupted.
///
/// `@unchecked Sendable`: `waiting`, `committed`, `failure`, `isClosed`, `isDone` and `spent` are only
/// touched with `condition` locked.
final class ImportWriter: @unchecked Sendable {
    /// Rows in line order; `mayRepeat` when the reader may have seen the row's e-mail or phone before.
    typealias Batch = [(line: Int, upsert: PreparedUpsert, mayRepeat: Bool)]

    /// What one committed batch did: customers created and updated, and rows the directory refused.
    struct Committed: Sendable {
        var created = 0
        var updated = 0
        var refused: [(line: Int, reason: String)] = []
    }

    /// Batches queued at most; `submit` waits past it.
    static let queueLength = 2
    /// Rows after which a transaction commits even if nobody else waits to write.
    static let rowsPerTransaction = 100_000
    /// Rows a bulk load holds back at most (about 600 bytes each) before it ends early.
    static let heldBackLimit = 10_000

    private let db: Database
    private let condition = NSCondition()
    private var waiting: [Batch] = []
    private var committed: [Committed] = []
    private var failure: (any Error)?
    private var isClosed = false
    private var isDone = false
    /// Batches written, handed back so the reading thread frees them: freeing on the thread that
    /// allocated spares the writer the work and both threads a lock in `malloc`.
    private var spent: [Batch] = []

    init(db: Database) {
        self.db = db
        let thread = Thread { [self] in work() }
        thread.name = "crm-import-writer"
        thread.start()
    }

    /// Queues a batch (waiting while the queue is full) and hands back what has committed since the last call.
    /// - Throws: the error that stopped the writer, if one did.
    func submit(_ batch: Batch) throws -> [Committed] {
        condition.lock()
        defer { condition.unlock() }
        while waiting.count >= Self.queueLength && failure == nil { condition.wait() }
        if let failure { throw failure }
        waiting.append(batch)
        condition.broadcast()
        let freed = spent
        spent.removeAll()
        condition.unlock()
        _ = consume freed  // freed here, outside the lock
        condition.lock()
        return takeCommitted()
    }

    /// Waits until every queued batch has committed and the thread has ended; hands back the rest.
    /// Safe to call more than once (a later call returns nothing).
    /// - Throws: the error that stopped the writer, if one did.
    func finish() throws -> [Committed] {
        condition.lock()
        defer { condition.unlock() }
        isClosed = true
        condition.broadcast()
        while !isDone { condition.wait() }
        if let failure { throw failure }
        return takeCommitted()
    }

    private func takeCommitted() -> [Committed] {
        defer { committed.removeAll() }
        return committed
    }

    private func work() {
        ImportCache.begin(db)
        defer { ImportCache.end(db) }
        condition.lock()
        var isFirst = true
        while failure == nil {
            while waiting.isEmpty && !isClosed { condition.wait() }
            guard !waiting.isEmpty else { break }
            condition.unlock()
            let outcome = Result {
                defer { isFirst = false }
                return try isFirst ? loadInBulk() ?? commitNextBatches() : commitNextBatches()
            }
            condition.lock()
            switch outcome {
            case .success(let done): committed.append(done)
            case .failure(let error): failure = error
            }
        }
        waiting.removeAll()
        isDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// One transaction over the batches that arrive until it is long enough, another writer waits, no
    /// batch comes for 50 ms, or the queue is closed and empty. A row refused by the directory (an email and a phone owned by two
    /// customers) is refused alone.
    private func commitNextBatches() throws -> Committed {
        try db.write { connection in
            var done = Committed()
            var rows = 0
            while rows < Self.rowsPerTransaction, !db.isWriterWaiting || rows == 0, let batch = next() {
                for row in batch { try Self.upsert(connection, row.line, row.upsert, into: &done) }
                rows += batch.count
                handBack(batch)
            }
            return done
        }
    }

    /// The bulk load described above, as the import's first transaction; nil (and nothing done) when the
    /// directory is not empty.
    private func loadInBulk() throws -> Committed? {
        // The index builds sort on disk (the database's in-memory temp store took the service far past
        // its 100 MB memory budget) and in memory only up to the page cache's size, so that is 8 MB here
        // (32 MB went over it too); appends need little cache. The WAL of one large transaction is left to
        // the background pass: checkpointing it in the commit delayed the answer by seconds. Figures:
        // `Benchmarks/crm.sh`, BENCHMARKS.md "CRM-lookup" ("a first load").
        try db.write(settings: ["temp_store": 1, "wal_autocheckpoint": 0, "cache_size": -8000]) { connection in
            guard try connection.scalarInt("SELECT EXISTS (SELECT 1 FROM customers)") == 0 else { return nil }
            try connection.execute(CRMMigrations.dropKeyIndexes)
            var done = Committed()
            var heldBack: [(line: Int, upsert: PreparedUpsert)] = []
            while heldBack.count < Self.heldBackLimit, let batch = next(patient: true) {
                for row in batch {
                    if try row.mayRepeat || !CustomerStore.insertFresh(connection, row.upsert) {
                        heldBack.append((row.line, row.upsert))
                    } else {
                        done.created += 1
                    }
                }
                handBack(batch)
            }
            try connection.execute(CRMMigrations.createKeyIndexes)
            for (line, upsert) in heldBack { try Self.upsert(connection, line, upsert, into: &done) }
            return done
        }
    }

    /// One row the ordinary way; one the directory refuses (an email and a phone owned by two customers) is listed.
    private static func upsert(
        _ connection: Connection, _ line: Int, _ upsert: PreparedUpsert, into done: inout Committed
    ) throws {
        do {
            let created = try CustomerStore.upsert(connection, upsert).created
            if created { done.created += 1 } else { done.updated += 1 }
        } catch let error as CRMError {
            done.refused.append((line, error.problem.detail ?? "refused"))
        }
    }

    private func handBack(_ batch: consuming Batch) {
        condition.lock()
        spent.append(batch)
        condition.unlock()
    }

    /// The next batch; nil when the queue is closed and empty. Unless `patient`, waits at most 50 ms for
    /// one and answers nil when none came (an ordinary transaction holds the write lock meanwhile, and a
    /// reader that falls behind must not keep every other writer out; a bulk load keeps them out anyway).
    private func next(patient: Bool = false) -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(0.05)
        while waiting.isEmpty && !isClosed {
            if patient {
                condition.wait()
            } else {
                guard condition.wait(until: deadline) else { break }
            }
        }
        guard !waiting.isEmpty else { return nil }
        condition.broadcast()
        return waiting.removeFirst()
    }
}
