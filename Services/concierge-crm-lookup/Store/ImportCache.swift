import Storage
import Synchronization

/// The writer connection's page cache while imports run. A shuffled file inserts all over the e-mail and
/// phone indexes (at a million customers their leaves are several times the cache); with the default
/// 16 MB cache most rows miss in both, reading a page back and writing a dirty one out to make room. The
/// first import on a database enlarges the cache, the last one to end puts the old size back (SQLite
/// frees the pages over it), so idle memory stays as it was.
enum ImportCache {
    /// The writer's page cache during an import, in KiB: large enough that a million-customer import
    /// is not slowed by it, small enough that the service stays under its 100 MB memory budget while
    /// importing (`Benchmarks/crm.sh`; BENCHMARKS.md, "CRM-lookup").
    static let kibibytes = 32_000

    /// Per database: imports running, and the `cache_size` to put back after the last.
    private static let running = Mutex<[ObjectIdentifier: (imports: Int, previous: Int)]>([:])

    /// Enlarges the cache unless another import already did. A failure only costs speed.
    static func begin(_ db: Database) {
        running.withLock { running in
            let key = ObjectIdentifier(db)
            if let entry = running[key] {
                running[key] = (entry.imports + 1, entry.previous)
                return
            }
            let previous = try? db.write { connection in
                let previous = try connection.scalarInt("PRAGMA cache_size")
                try connection.execute("PRAGMA cache_size = -\(kibibytes)")
                return previous
            }
            if let previous { running[key] = (1, previous) }
        }
    }

    /// Ends what `begin` started; the last import puts the old size back.
    static func end(_ db: Database) {
        running.withLock { running in
            let key = ObjectIdentifier(db)
            guard let entry = running[key] else { return }
            guard entry.imports == 1 else {
                running[key] = (entry.imports - 1, entry.previous)
                return
            }
            running[key] = nil
            _ = try? db.write { try $0.execute("PRAGMA cache_size = \(entry.previous)") }
        }
    }
}
