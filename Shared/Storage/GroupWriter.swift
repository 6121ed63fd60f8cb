import CSystem
import Foundation
import Synchronization

/// Group commit: changes submitted from many tasks run one after another on a thread of their own
/// and share write transactions. Each change runs in its own savepoint; while one transaction
/// commits, the changes that arrive wait and then commit together in the next. Nobody is answered
/// before the transaction holding their change has committed.
///
/// With `runsOnCallers` there is no writer thread: the callers take turns. A change that finds the
/// writer idle runs its transaction on the caller's own thread; changes arriving meanwhile wait, and
/// when that transaction ends the oldest of them is handed the lead — its task resumes on its own
/// executor (for a request, the event loop that read it) and commits every change then waiting in
/// one transaction, its own first. No hand-over to a writer thread and back, which on a busy machine
/// means two more waits for a CPU per change; under load batching is the same. A caller that finds a
/// transaction running and nobody else waiting may watch for its end without sleeping for up to
/// `spinMicroseconds` (when `maySpin` agrees) and then lead at once, instead of queueing and being woken.
/// Evidence for the spin: `Benchmarks/routing.sh`, BENCHMARKS.md "Routing decisions" ("a decision that finds another
/// committing waits without sleeping"); it changes only who waits: `GroupWriterTests` (`spinning…`, `aChange…`).
///
/// A change whose error `isRecoverable` accepts is rolled back alone (its savepoint) and its caller
/// gets the error. Any other error — or one after which SQLite itself ended the transaction (a full
/// disk, an I/O error) — rolls back the whole transaction, every
/// change in it fails with that error, and `onAbort` runs before the next transaction so the owner
/// can reload whatever it keeps in memory.
public final class GroupWriter: @unchecked Sendable {
    // @unchecked: `queue`, `isBusy` and `changesQueued` are guarded by `condition`; the hooks and
    // `spinMicroseconds` are set before `start()`.
    private struct Job {
        /// Runs the change on the writer connection; returns the error if it aborts the transaction.
        let run: (Connection) -> (any Error)?
        /// Answers the caller once the transaction's fate is known: `nil` when it committed.
        let finish: ((any Error)?) -> Void
        /// With `runsOnCallers`: resumes the waiting caller to lead the next transaction instead.
        var lead: () -> Void = {}
    }

    private let db: Database
    private let isRecoverable: @Sendable (any Error) -> Bool
    private let maxBatch: Int
    private let runsOnCallers: Bool
    private let condition = NSCondition()
    private var queue: [Job] = []
    /// A transaction of this writer's is running (or, with `runsOnCallers`, a caller was handed the lead).
    private var isBusy = false
    /// With `runsOnCallers`: changes that had to queue behind a transaction so far (for tests).
    private(set) var changesQueued = 0

    /// Changes waiting for the transaction that runs now (for tests, which wait on it).
    var waitingChanges: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }
    private var thread: Thread?
    /// Runs after each committed transaction, on the thread that ran it (e.g. wake an outbox dispatcher).
    public var onCommit: @Sendable () -> Void = {}
    /// Runs after a transaction was rolled back whole, on the thread that ran it, before the next begins.
    public var onAbort: @Sendable () -> Void = {}
    /// With `runsOnCallers`: how long a caller that finds a transaction running, and no other change
    /// waiting, watches for its end without sleeping before it queues (0, the default: never). A
    /// transaction is short (BENCHMARKS.md times one under "what is left of the tail"); queueing means the
    /// caller's thread sleeps and is woken to lead the next, which on a virtual machine whose idle CPUs
    /// halt takes about as long as the transaction or longer.
    public var spinMicroseconds = 0
    /// Whether the calling thread may spin now (e.g. its event loop has nothing else to do).
    public var maySpin: () -> Bool = { true }

    /// - Parameters:
    ///   - maxBatch: most changes in one transaction; default 256.
    ///   - runsOnCallers: no writer thread; callers run the transactions in turn (type doc).
    ///   - isRecoverable: errors that undo only their own change (domain errors).
    public init(
        db: Database, maxBatch: Int = 256, runsOnCallers: Bool = false,
        isRecoverable: @escaping @Sendable (any Error) -> Bool
    ) {
        self.db = db
        self.maxBatch = max(1, maxBatch)
        self.runsOnCallers = runsOnCallers
        self.isRecoverable = isRecoverable
    }

    /// Starts the writer thread (none with `runsOnCallers`); call once, after setting the hooks.
    public func start() {
        guard !runsOnCallers else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "group-writer"
        thread.start()
        self.thread = thread
    }

    /// Runs `body` in the next shared transaction and returns its value once that has committed.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        let run: (Connection) -> (any Error)? = { [isRecoverable] connection in
            do {
                outcome.value = .success(try connection.savepoint { try body(connection) })
                return nil
            } catch {
                outcome.value = .failure(error)
                // Recoverable only if SQLite kept the transaction open for the others.
                return isRecoverable(error) && connection.isInTransaction ? nil : error
            }
        }
        if runsOnCallers {
            try await takeTurn(run, outcome)
            return try (outcome.value ?? .failure(CancellationError())).get()
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(run: run) { abort in
                if let abort {
                    continuation.resume(throwing: abort)
                } else {
                    continuation.resume(with: outcome.value ?? .failure(CancellationError()))
                }
            }
            condition.lock()
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// `runsOnCallers`: runs the change now if the writer is idle, else waits until the transaction
    /// holding it committed or the caller is handed the lead. Throws the error that aborted it.
    private func takeTurn<T>(_ run: @escaping (Connection) -> (any Error)?, _ outcome: Outcome<T>) async throws {
        if takeIdleWriter() {
            lead(Job(run: run) { outcome.abort = $0 })
            if let abort = outcome.abort { throw abort }
            return
        }
        let leads = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            condition.lock()
            guard isBusy else {
                isBusy = true
                condition.unlock()
                continuation.resume(returning: true)
                return
            }
            var job = Job(run: run) { abort in
                outcome.abort = abort
                continuation.resume(returning: false)
            }
            job.lead = { continuation.resume(returning: true) }
            queue.append(job)
            changesQueued += 1
            condition.unlock()
        }
        if leads { lead(Job(run: run) { outcome.abort = $0 }) }
        if let abort = outcome.abort { throw abort }
    }

    /// Takes the writer if it is idle. While a transaction runs and no other change waits for it,
    /// keeps looking for up to `spinMicroseconds` without sleeping, if `maySpin`. True if it is ours.
    private func takeIdleWriter() -> Bool {
        var deadline: UInt64?
        while true {
            condition.lock()
            if !isBusy {
                isBusy = true
                condition.unlock()
                return true
            }
            let othersWait = !queue.isEmpty
            condition.unlock()
            if othersWait { return false }
            let now = DispatchTime.now().uptimeNanoseconds
            if deadline == nil {
                guard spinMicroseconds > 0, maySpin() else { return false }
                deadline = now + UInt64(spinMicroseconds) * 1000
            }
            if let deadline, now >= deadline { return false }
            for _ in 0..<50 { csystem_cpu_relax() }
        }
    }

    /// One transaction over `own` and the changes waiting (oldest first), then the lead passes to the
    /// oldest change that arrived meanwhile, or the writer is idle again.
    private func lead(_ own: Job) {
        condition.lock()
        let waiting = queue.prefix(maxBatch - 1)
        queue.removeFirst(waiting.count)
        condition.unlock()
        commit([own] + waiting)
        condition.lock()
        guard !queue.isEmpty else {
            isBusy = false
            condition.unlock()
            return
        }
        let next = queue.removeFirst()
        condition.unlock()
        next.lead()
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

    /// One change's result, written by the thread that ran its transaction before the caller resumes.
    private final class Outcome<T>: @unchecked Sendable {
        var value: Result<T, any Error>?
        /// With `runsOnCallers`: the error that rolled back the whole transaction holding the change.
        var abort: (any Error)?
    }
}
