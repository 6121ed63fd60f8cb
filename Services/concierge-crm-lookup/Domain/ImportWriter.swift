import Foundation
import Storage

/// The writer thread of an import: applies prepared batches in order while the import's reading thread
/// parses the next ones, so parsing and SQLite run on both cores. At most two batches wait, which bounds
/// memory; the first failure stops the writer and reaches the reader.
///
/// Batches share transactions: one commits after `rowsPerTransaction` rows, as soon as another writer
/// waits for the lock (a single upsert waits for one batch, not for the whole transaction), when the
/// upload pauses for 50 ms, or when the import ends. A commit writes every page it dirtied to the WAL, and a file in random e-mail/phone
/// order dirties a page of each index per row: 1,000-row commits wrote 7.8 GB for 1,000,000 customers,
/// 100,000-row ones 2.2 GB (with `ImportCache`). What committed stays if the import is interrupted.
///
/// `@unchecked Sendable`: `waiting`, `committed`, `failure`, `isClosed` and `isDone` are only touched
/// with `condition` locked.
final class ImportWriter: @unchecked Sendable {
    typealias Batch = [(line: Int, upsert: PreparedUpsert)]

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

    private let db: Database
    private let condition = NSCondition()
    private var waiting: [Batch] = []
    private var committed: [Committed] = []
    private var failure: (any Error)?
    private var isClosed = false
    private var isDone = false

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
        while failure == nil {
            while waiting.isEmpty && !isClosed { condition.wait() }
            guard !waiting.isEmpty else { break }
            condition.unlock()
            let outcome = Result { try commitNextBatches() }
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
                for (line, upsert) in batch {
                    do {
                        let created = try CustomerStore.upsert(connection, upsert).created
                        if created { done.created += 1 } else { done.updated += 1 }
                    } catch let error as CRMError {
                        done.refused.append((line, error.problem.detail ?? "refused"))
                    }
                }
                rows += batch.count
            }
            return done
        }
    }

    /// The next batch, waiting at most 50 ms for one (the transaction holds the write lock meanwhile,
    /// and an upload that stalls must not keep every other writer out); nil when none came, or the
    /// queue is closed and empty.
    private func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(0.05)
        while waiting.isEmpty && !isClosed {
            guard condition.wait(until: deadline) else { break }
        }
        guard !waiting.isEmpty else { return nil }
        condition.broadcast()
        return waiting.removeFirst()
    }
}
