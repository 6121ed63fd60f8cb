import Foundation
import Logging
import Models
import Storage
import Synchronization

/// What a service knows about the disk under its database: a full disk answers every write with
/// 507 (a problem saying so, not a bare 500), says it once in the log, and keeps `/readyz` at 503
/// until a write commits again.
public final class StorageHealth: Sendable {
    private let diskFull = Atomic<Bool>(false)
    private let logger: Logger
    private let databasePath: String

    public init(db: Database, logger: Logger, databasePath: String) {
        self.logger = logger
        self.databasePath = databasePath
        // A commit that went through means there is room again.
        db.observeCommits { [weak self] in self?.diskFull.store(false, ordering: .relaxed) }
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
