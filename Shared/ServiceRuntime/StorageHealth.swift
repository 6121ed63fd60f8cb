import ConciergeLogging
import ConciergeModels
import Foundation
import Storage
import Synchronization

/// Whether a service's database can take writes, for `/readyz`, the log and the answers to writes:
/// - a full disk answers every write with 507 (a problem saying so, not a bare 500), says it once in
///   the log, and keeps `/readyz` at 503 until a write commits again;
/// - a database file deleted or replaced under the running service (writes would reach a file no
///   restart finds) is said once in the log and keeps `/readyz` at 503 until a restart.
public final class StorageHealth: Sendable {
    private let db: Database
    private let diskFull = Atomic<Bool>(false)
    private let logger: Logger
    private let databasePath: String

    public init(db: Database, logger: Logger, databasePath: String) {
        self.db = db
        self.logger = logger
        self.databasePath = databasePath
        // A commit that went through means there is room again.
        db.observeCommits { [weak self] in self?.diskFull.store(false, ordering: .relaxed) }
        db.onFileMissing {
            logger.error(
                "the database file was deleted or replaced while the service ran: writes no longer reach it; restart the service",
                ["database": databasePath])
        }
    }

    public enum Readiness: Equatable {
        case ready
        /// With a reason when one is known (`database file missing`, `disk full`).
        case notReady(String?)
    }

    /// What `/readyz` answers.
    public var readiness: Readiness {
        guard db.isFileInPlace else { return .notReady("database file missing") }
        guard !isDiskFull else { return .notReady("disk full") }
        return db.isReadable() ? .ready : .notReady(nil)
    }

    /// Whether the last write failed for want of disk space and none has committed since.
    public var isDiskFull: Bool { diskFull.load(ordering: .relaxed) }

    /// The problem for a storage error the server does not know, or nil (a 500).
    public func problem(for error: any Error) -> Problem? {
        guard let sqlite = error as? SQLiteError, sqlite.isDiskFull else { return nil }
        if !diskFull.exchange(true, ordering: .relaxed) {
            logger.error(
                "the disk holding the database is full: writes are refused until space is freed",
                ["database": databasePath])
        }
        return Problem(
            status: 507, title: "Insufficient storage",
            detail:
                "The disk that holds this service's database is full; nothing was changed. Retry once space is freed.")
    }
}
