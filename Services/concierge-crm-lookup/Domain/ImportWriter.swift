import Foundation
import Storage

/// The writer thread of an import: commits prepared batches one transaction each, in order, while the
/// import's reading thread parses the next batch, so parsing and SQLite run on both cores. At most two
/// batches wait, which bounds memory; the first failure stops the writer and reaches the reader.
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
        condition.lock()
        while failure == nil {
            while waiting.isEmpty && !isClosed { condition.wait() }
            guard !waiting.isEmpty else { break }
            let batch = waiting.removeFirst()
            condition.broadcast()
            condition.unlock()
            let outcome = Result { try Self.commit(batch, to: db) }
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

    /// One transaction for the batch; a row refused by the directory (an email and a phone owned by two
    /// customers) is refused alone.
    private static func commit(_ batch: Batch, to db: Database) throws -> Committed {
        try db.write { connection in
            var done = Committed()
            for (line, upsert) in batch {
                do {
                    if try CustomerStore.upsert(connection, upsert).created { done.created += 1 } else { done.updated += 1 }
                } catch let error as CRMError {
                    done.refused.append((line, error.problem.detail ?? "refused"))
                }
            }
            return done
        }
    }
}
