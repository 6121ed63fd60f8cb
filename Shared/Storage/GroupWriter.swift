import Foundation
import Synchronization

/// Group commit: changes submitted from many tasks run one after another on a thread of their own
/// and share write transactions. Each change runs in its own savepoint; while one transaction
/// commits, the changes that arrive wait and then commit together in the next. Nobody is answered
/// before the transaction holding their change has committed.
///
/// A change whose error `isRecoverable` accepts is rolled back alone (its savepoint) and its caller
/// gets the error. Any other error — or one after which SQLite itself ended the transaction (a full
/// disk, an I/O error) — rolls back the whole transaction, every
/// change in it fails with that error, and `onAbort` runs before the next transaction so the owner
/// can reload whatever it keeps in memory.
public final class GroupWriter: @unchecked Sendable {
    // @unchecked: `queue` is guarded by `condition`; `onCommit`/`onAbort` are set before `start()`.
    private struct Job {
        /// Runs the change on the writer connection; returns the error if it aborts the transaction.
        let run: (Connection) -> (any Error)?
        /// Answers the caller once the transaction's fate is known: `nil` when it committed.
        let finish: ((any Error)?) -> Void
    }

    private let db: Database
    private let isRecoverable: @Sendable (any Error) -> Bool
    private let maxBatch: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var thread: Thread?
    /// Runs on the writer thread after each committed transaction (e.g. wake an outbox dispatcher).
    public var onCommit: @Sendable () -> Void = {}
    /// Runs on the writer thread after a transaction was rolled back whole.
    public var onAbort: @Sendable () -> Void = {}

    /// - Parameters:
    ///   - maxBatch: most changes in one transaction; default 256.
    ///   - isRecoverable: errors that undo only their own change (domain errors).
    public init(db: Database, maxBatch: Int = 256, isRecoverable: @escaping @Sendable (any Error) -> Bool) {
        self.db = db
        self.maxBatch = max(1, maxBatch)
        self.isRecoverable = isRecoverable
    }

    /// Starts the writer thread; call once, after setting the hooks.
    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "group-writer"
        thread.start()
        self.thread = thread
    }

    /// Runs `body` in the next shared transaction and returns its value once that has committed.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let job = Job(
                run: { [isRecoverable] connection in
                    do {
                        outcome.value = .success(try connection.savepoint { try body(connection) })
                        return nil
                    } catch {
                        outcome.value = .failure(error)
                        // Recoverable only if SQLite kept the transaction open for the others.
                        return isRecoverable(error) && connection.isInTransaction ? nil : error
                    }
                },
                finish: { abort in
                    if let abort {
                        continuation.resume(throwing: abort)
                    } else {
                        continuation.resume(with: outcome.value ?? .failure(CancellationError()))
                    }
                })
            condition.lock()
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            var abort: (any Error)?
            do {
                try db.write { connection in
                    for job in batch {
                        if let error = job.run(connection) { throw error }
                    }
                }
            } catch {
                abort = error
            }
            if abort == nil { onCommit() } else { onAbort() }
            for job in batch { job.finish(abort) }
        }
    }

    /// One change's result, written on the writer thread before `finish` reads it there.
    private final class Outcome<T>: @unchecked Sendable {
        var value: Result<T, any Error>?
    }
}
