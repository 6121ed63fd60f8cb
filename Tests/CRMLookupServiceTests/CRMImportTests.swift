import CSQLite
import ConciergeModels
import Foundation
import TestSupport
import Testing

@testable import CRMLookupService
@testable import Storage

/// The pieces of the CRM import's bulk load that are not visible through HTTP: the schema step that
/// makes its indexes droppable, the key filter, and the buffered random ids.
@Suite struct CRMImportTests {
    /// A database from before migration 3 keeps its customers, gets the named indexes, and still
    /// refuses a second owner of an email or phone (NULLs stay allowed more than once).
    @Test func migrationThreeRebuildsCustomersWithNamedIndexes() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/crm.sqlite"
            do {
                let old = try Database(path: path, migrations: Array(CRMMigrations.all.prefix(2)))
                try old.write { connection in
                    for (id, email, phone) in [("a", "a@example.com", "+4511"), ("b", nil, "+4522"), ("c", nil, nil)] {
                        try connection.run(
                            "INSERT INTO customers (id, email, phone, record) VALUES (?, ?, ?, ?)", id, email, phone,
                            SQLValue.blob(Array("{\"id\":\"\(id)\"}".utf8)))
                    }
                }
            }
            let db = try Database(path: path, migrations: CRMMigrations.all)
            let rows = try db.read { connection in
                try connection.query("SELECT seq, id, email, phone FROM customers ORDER BY seq") {
                    "\($0.int(0)) \($0.string(1)) \($0.optionalString(2) ?? "-") \($0.optionalString(3) ?? "-")"
                }
            }
            #expect(rows == ["1 a a@example.com +4511", "2 b - +4522", "3 c - -"])
            let indexes = try db.read { connection in
                try connection.query(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL ORDER BY name"
                ) {
                    $0.string(0)
                }
            }
            #expect(indexes == ["customers_email", "customers_phone"])
            for (email, phone) in [("a@example.com", "+4599"), ("z@example.com", "+4522")] {
                let error = #expect(throws: SQLiteError.self) {
                    try db.write {
                        try $0.run(
                            "INSERT INTO customers (id, email, phone, record) VALUES ('d', ?, ?, x'')", email, phone)
                    }
                }
                #expect(error.map { $0.code & 0xFF } == SQLITE_CONSTRAINT, "\(email) \(phone)")
            }
            try db.write {
                try $0.run("INSERT INTO customers (id, email, phone, record) VALUES ('e', NULL, NULL, x'')")
            }
        }
    }

    /// Never "not seen" for a key added before (that would load a repeat without its index), and
    /// rarely "seen" for a new one at the size a file gives it.
    @Test func keyFilterRemembersEveryKeyAndRarelyImaginesOne() {
        let count = 50_000
        // Lines of ~200 bytes, like a real export: the filter is sized from the file.
        var filter = ImportKeyFilter(fileBytes: count * 200)
        var imagined = 0
        for n in 0..<count where filter.insert(email: "customer\(n)@example.com", phone: "+4520\(n)") { imagined += 1 }
        #expect(imagined < count / 1_000, "\(imagined) of \(count) new rows were taken for repeats")
        for n in stride(from: 0, to: count, by: 7) {
            let emailSeen = filter.insert(email: "customer\(n)@example.com", phone: nil)
            let phoneSeen = filter.insert(email: nil, phone: "+4520\(n)")
            #expect(emailSeen && phoneSeen, "\(n)")
        }
        // An email and a phone with the same text are different keys.
        var kinds = ImportKeyFilter(fileBytes: 0)
        let asEmail = kinds.insert(email: "+4512345678", phone: nil)
        let asPhone = kinds.insert(email: nil, phone: "+4512345678")
        let neither = kinds.insert(email: nil, phone: nil)
        #expect(!asEmail && !asPhone && !neither)
    }

    /// Ids from the buffered generator are UUIDv7s like any other, and do not repeat across refills.
    @Test func bufferedRandomIdsAreDistinctVersion7UUIDs() {
        var random = BufferedRandomNumberGenerator()
        let ids = (0..<10_000).map { _ in Identifier.make(using: &random) }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil && id == id.lowercased(), "\(id)")
            #expect(Array(id)[14] == "7", "version nibble of \(id)")
            #expect("89ab".contains(Array(id)[19]), "variant of \(id)")
        }
        let words = (0..<100).map { _ in random.next() }
        #expect(Set(words).count == words.count)
    }
}
