import CSQLite

/// One open SQLite connection with its prepared-statement cache. Used by one thread at a time:
/// `Database` hands it out inside `read { }` / `write { }` only.
public final class Connection {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private var last: (sql: String, statement: Statement)?
    /// What to do once the write transaction running on this connection commits (`afterCommit`).
    private var committedActions: [() -> Void] = []

    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        // A 16 MiB page cache (default 2 MiB): hot index pages stay in memory instead of costing a
        // pread(2) each. (Memory-mapping was tried: it remaps as the file grows, which costs more.)
        sqlite3_exec(db, "PRAGMA cache_size=-16000;", nil, nil, nil)
    }

    deinit {
        last = nil
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Whether SQLite opened the main database read-only. Asked for read-write, it falls back to
    /// read-only without an error when the file is not writable by this process (mode 0444, another
    /// owner), and every later write fails.
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// Runs one or more statements that take no parameters and return no rows (DDL, PRAGMAs).
    public func execute(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: lastMessage, sql: sql)
        }
    }

    /// Runs one statement with parameters; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: any SQLBindable...) throws(SQLiteError) -> Int {
        try run(sql, values)
    }

    @discardableResult
    public func run(_ sql: String, _ values: [any SQLBindable]) throws(SQLiteError) -> Int {
        let statement = try prepared(sql)
        try statement.bind(values)
        defer { statement.finish() }
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps every row.
    public func query<T>(
        _ sql: String, _ values: [any SQLBindable] = [], _ map: (Row) throws -> T
    ) throws -> [T] {
        let statement = try prepared(sql)
        try statement.bind(values)
        defer { statement.finish() }
        var result: [T] = []
        while try statement.step() {
            result.append(try map(Row(handle: statement.handle)))
        }
        return result
    }

    /// Runs a query and maps its first row, if any.
    public func first<T>(
        _ sql: String, _ values: [any SQLBindable] = [], _ map: (Row) throws -> T
    ) throws -> T? {
        let statement = try prepared(sql)
        try statement.bind(values)
        defer { statement.finish() }
        guard try statement.step() else { return nil }
        return try map(Row(handle: statement.handle))
    }

    /// Visits every row without collecting them (for streaming large results).
    public func forEach(
        _ sql: String, _ values: [any SQLBindable] = [], _ body: (Row) throws -> Void
    ) throws {
        let statement = try prepared(sql)
        try statement.bind(values)
        defer { statement.finish() }
        while try statement.step() {
            try body(Row(handle: statement.handle))
        }
    }

    /// Convenience for `SELECT count(*)`-style queries.
    public func scalarInt(_ sql: String, _ values: [any SQLBindable] = []) throws -> Int? {
        try first(sql, values) { $0.isNull(0) ? nil : $0.int(0) } ?? nil
    }

    /// Whether a transaction is open: SQLite rolls the whole transaction back by itself after some
    /// errors (a full disk, an I/O error), and statements after that would each commit alone.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// The rowid of the last successful insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` inside a savepoint, so a failure undoes only its part of the transaction — and
    /// forgets the `afterCommit` actions it registered.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        // Prepared once per connection (`run`), not parsed on every call as `execute` would.
        try run("SAVEPOINT sp")
        let actions = committedActions.count
        do {
            let value = try body()
            try run("RELEASE sp")
            return value
        } catch {
            _ = try? run("ROLLBACK TO sp")
            _ = try? run("RELEASE sp")
            committedActions.removeSubrange(actions...)
            throw error
        }
    }

    /// Runs `action` once the write transaction now open on this connection has committed — still
    /// before the next transaction begins, so actions run in commit order (e.g. a cache of what was
    /// written is updated only once it is durable, and never by an older write after a newer one).
    /// Dropped if the transaction (or the savepoint that registered it) is rolled back. Keep it short:
    /// the next writer waits for it.
    public func afterCommit(_ action: @escaping () -> Void) {
        committedActions.append(action)
    }

    /// Runs the actions registered since the transaction began (after its COMMIT).
    func runCommittedActions() {
        guard !committedActions.isEmpty else { return }
        let actions = committedActions
        committedActions.removeAll(keepingCapacity: true)
        for action in actions { action() }
    }

    /// Forgets the actions of a transaction that was rolled back.
    func discardCommittedActions() {
        committedActions.removeAll(keepingCapacity: true)
    }

    /// Syncs the main database file's written data to disk through the descriptor SQLite itself holds
    /// (`SQLITE_FCNTL_FILE_POINTER`, then the file's own `xSync`). Opening and closing a descriptor of
    /// our own instead would drop SQLite's POSIX locks on the file (see `Database`). Returns whether
    /// the sync ran and succeeded.
    func syncDatabaseFile() -> Bool {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
            let file, let methods = file.pointee.pMethods, let sync = methods.pointee.xSync
        else { return false }
        return sync(file, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY) == SQLITE_OK
    }

    /// Copies this connection's main database into a new file at `destination` in one step.
    func backup(to destination: String) throws(SQLiteError) {
        let target = try Connection(path: destination, readOnly: false, busyTimeoutMilliseconds: 5000)
        guard let backup = sqlite3_backup_init(target.handle, "main", handle, "main") else {
            throw SQLiteError(code: sqlite3_errcode(target.handle), message: target.lastMessage)
        }
        let rc = sqlite3_backup_step(backup, -1)
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw SQLiteError(code: rc, message: target.lastMessage) }
        // One self-contained file: no -wal beside it to forget when the copy is moved.
        try target.execute("PRAGMA journal_mode=DELETE")
    }

    func prepared(_ sql: String) throws(SQLiteError) -> Statement {
        // A loop runs one statement many times, usually a literal: comparing it with the last one is
        // a pointer check, hashing it for the cache reads all of it.
        if let last, last.sql == sql { return last.statement }
        let statement: Statement
        if let cached = statements[sql] {
            statement = cached
        } else {
            statement = try Statement(connection: self, sql: sql)
            statements[sql] = statement
        }
        last = (sql, statement)
        return statement
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
