import Foundation
import Synchronization

/// Group commit: changes submitted from many tasks run one after another on a thread of their own
/// and share write transactions. Each change runs in its own savepoint; while one transaction
/// commits, the changes that arrive wait and then commit together in the next. Nobody is answered
/// before the transaction holding their change has committed.
///
/// With `inlineWhenIdle`, a change that finds the writer idle and nobody waiting runs its transaction
/// on the caller's own thread instead: no hand-over to the writer thread and back, which on a busy
/// machine means two waits for a CPU. Changes arriving meanwhile queue for the writer thread as
/// usual, so under load batching is unchanged.
///
/// A change whose error `isRecoverable` accepts is rolled back alone (its savepoint) and its caller
/// gets the error. Any other error — or one after which SQLite itself ended the transaction (a full
/// disk, an I/O error) — rolls back the whole transaction, every
/// change in it fails with that error, and `onAbort` runs before the next transaction so the owner
/// can reload whatever it keeps in memory.
public final class GroupWriter: @unchecked Sendable {
    // @unchecked: `queue` and `isBusy` are guarded by `condition`; `onCommit`/`onAbort` are set before `start()`.
    private struct Job {
        /// Runs the change on the writer connection; returns the error if it aborts the transaction.
        let run: (Connection) -> (any Error)?
        /// Answers the caller once the transaction's fate is known: `nil` when it committed.
        let finish: ((any Error)?) -> Void
    }

    private let db: Database
    private let isRecoverable: @Sendable (any Error) -> Bool
    private let maxBatch: Int
    private let inlineWhenIdle: Bool
    private let condition = NSCondition()
    private var queue: [Job] = []
    /// A transaction of this writer's is running, on its thread or inline on a caller's.
    private var isBusy = false
    private var thread: Thread?
    /// Runs after each committed transaction, on the thread that ran it (e.g. wake an outbox dispatcher).
    public var onCommit: @Sendable () -> Void = {}
    /// Runs after a transaction was rolled back whole, on the thread that ran it, before the next begins.
    public var onAbort: @Sendable () -> Void = {}

    /// - Parameters:
    ///   - maxBatch: most changes in one transaction; default 256.
    ///   - inlineWhenIdle: run a change on the caller's thread when nothing else is running or waiting.
    ///   - isRecoverable: errors that undo only their own change (domain errors).
    public init(
        db: Database, maxBatch: Int = 256, inlineWhenIdle: Bool = false, isRecoverable: @escaping @Sendable (any Error) -> Bool
    ) {
        self.db = db
        self.maxBatch = max(1, maxBatch)
        self.inlineWhenIdle = inlineWhenIdle
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
            guard inlineWhenIdle, queue.isEmpty, !isBusy else {
                queue.append(job)
                condition.signal()
                condition.unlock()
                return
            }
            isBusy = true
            condition.unlock()
            commit([job])
            condition.lock()
            isBusy = false
            if !queue.isEmpty { condition.signal() }
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty || isBusy { condition.wait() }
            isBusy = true
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()
            commit(batch)
            condition.lock()
            isBusy = false
            condition.unlock()
        }
    }

    /// One transaction over `batch`; each job is answered once its fate is known.
    private func commit(_ batch: [Job]) {
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

    /// One change's result, written on the writer thread before `finish` reads it there.
    private final class Outcome<T>: @unchecked Sendable {
        var value: Result<T, any Error>?
    }
}
