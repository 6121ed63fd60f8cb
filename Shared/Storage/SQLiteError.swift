import CSQLite

/// A failed SQLite call: the result code, SQLite's message and the statement text.
/// Never carries bound values — they may be personal data.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// `SQLITE_ERROR`, for failures of our own making around a statement (no value, bad shape).
    public static let genericError = SQLITE_ERROR
    /// `SQLITE_CORRUPT`, for stored bytes that do not read back.
    public static let corrupt = SQLITE_CORRUPT
    /// `SQLITE_READONLY`, for a database file this process can read but not write.
    public static let readOnly = SQLITE_READONLY

    /// A `UNIQUE` or `PRIMARY KEY` constraint refused the write.
    public var isUniqueViolation: Bool {
        code == csqlite_constraint_unique || code == csqlite_constraint_primarykey
    }

    /// The disk (or the file size allowed) is full: nothing more can be written until space is freed.
    public var isDiskFull: Bool { code & 0xff == SQLITE_FULL }

    /// Another connection held the lock past the busy timeout.
    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) [\(sql)]" }
        return "SQLite error \(code): \(message)"
    }
}
