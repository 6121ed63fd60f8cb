import ConciergeJSON
import ConciergeModels
import Foundation
import Storage

/// A smart folder as stored and answered.
struct Folder: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var rule: JSONValue
    var createdAt: String
    var updatedAt: String
}

/// `POST /v1/folders` and `PUT /v1/folders/{id}` body.
struct FolderInput: Codable, Sendable {
    var name: String
    var rule: JSONValue
}

/// Smart folders and the conversations matching them now.
struct FolderStore: Sendable {
    let db: Database

    func create(name: String, rule: JSONValue) throws -> Folder {
        let now = Timestamp.now()
        let folder = Folder(id: Identifier.make(), name: name, rule: rule, createdAt: now, updatedAt: now)
        try db.write { connection in
            try connection.run(
                "INSERT INTO folders (id, name, rule, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", folder.id, name,
                SQLValue.blob(try JSONCoding.encode(rule)), now, now)
        }
        return folder
    }

    func update(_ id: String, name: String, rule: JSONValue) throws -> Folder {
        try db.write { connection in
            guard
                try connection.run(
                    "UPDATE folders SET name = ?, rule = ?, updated_at = ? WHERE id = ?", name,
                    SQLValue.blob(try JSONCoding.encode(rule)),
                    Timestamp.now(), id) == 1
            else { throw FolderError.notFound(id) }
            return try Self.folder(connection, id)
        }
    }

    func delete(_ id: String) throws {
        guard try db.write({ try $0.run("DELETE FROM folders WHERE id = ?", id) }) == 1 else {
            throw FolderError.notFound(id)
        }
    }

    func folder(_ id: String) throws -> Folder {
        try db.read { connection in try Self.folder(connection, id) }
    }

    /// Folders newest first, paged by `seq`.
    func list(limit: Int, before cursor: Int64?) throws -> Page<Folder> {
        let rows = try db.read { connection in
            try connection.query(
                "SELECT id, name, rule, created_at, updated_at, seq FROM folders WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                [cursor ?? Int64.max, limit + 1]
            ) { (Self.decode($0), $0.int64(5)) }
        }
        return Page(rows: rows, limit: limit)
    }

    /// Non-spam conversations matching the rule now, newest first, paged by `seq`.
    func conversations(_ rule: Condition, limit: Int, before cursor: Int64?) throws -> Page<Conversation> {
        let rows = try db.read { connection in
            let plan = try FolderPlan.choose(for: rule, in: connection)
            let query = FolderQuery(rule, plan: plan, columns: Self.columns, limit: limit, before: cursor)
            return try connection.query(query.sql, query.values) { (ConversationStore.decode($0), $0.int64(0)) }
        }
        return Page(rows: rows, limit: limit)
    }

    /// `ConversationStore.columns`, qualified: a folder query may join `conversation_tags`.
    private static let columns = ConversationStore.columns.split(separator: ",")
        .map { "conversations." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    private static func folder(_ connection: Connection, _ id: String) throws -> Folder {
        guard
            let folder = try connection.first(
                "SELECT id, name, rule, created_at, updated_at FROM folders WHERE id = ?", [id], decode)
        else { throw FolderError.notFound(id) }
        return folder
    }

    private static func decode(_ row: Row) -> Folder {
        Folder(
            id: row.string(0), name: row.string(1),
            rule: (try? JSONCoding.decode(JSONValue.self, from: row.bytes(2))) ?? .null,
            createdAt: row.string(3), updatedAt: row.string(4))
    }
}

enum FolderError: Error, ProblemConvertible {
    case notFound(String)
    var problem: Problem {
        switch self {
        case .notFound(let id): .notFound("Folder", id: id)
        }
    }
}
