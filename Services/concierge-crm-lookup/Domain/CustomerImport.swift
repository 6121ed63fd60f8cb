import ConciergeJSON
import ConciergeModels
import Foundation
import Glibc
import Storage

/// `POST /v1/customers/import` (SPEC §7): reads the spooled body in chunks, parses NDJSON or CSV
/// record by record, and hands batches of 1,000 upserts to an `ImportWriter`. A bad record is listed with
/// its line number and never stops the rest. Parsing and validating run on the import's own thread,
/// committing on an `ImportWriter`'s, so neither blocks the Swift concurrency pool.
struct CustomerImport {
    enum Format: Sendable {
        case ndjson
        case csv
    }

    /// Rejections listed in the answer; all are counted.
    static let listedRejections = 100
    static let batchSize = 1000

    private let writer: ImportWriter
    private var result = ImportResult(imported: 0, updated: 0, rejected: [], rejectedCount: 0)
    private var batch: ImportWriter.Batch = []
    /// Timestamp of the rows in `batch`, which commit together.
    private var batchTime = ""
    private var header: [String]?
    private var keys: ImportKeyFilter
    private var random = BufferedRandomNumberGenerator()

    private init(writer: ImportWriter, fileBytes: Int) {
        self.writer = writer
        keys = ImportKeyFilter(fileBytes: fileBytes)
    }

    /// Imports the file at `path` (a spooled request body) on a thread of its own. An import that
    /// created or updated customers is told as `customers.imported` with its counts, once its last
    /// batch has committed (the batches commit as they go, so no one transaction holds the whole
    /// import); one that changed nothing is told nothing.
    static func run(store: CustomerStore, format: Format, path: String) async throws -> ImportResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        let result = try importFile(db: store.db, format: format, path: path)
                        if result.imported + result.updated > 0 {
                            try store.record(Self.eventType, data: Self.eventData(result))
                        }
                        return result
                    })
            }
            thread.name = "crm-import"
            thread.start()
        }
    }

    private static func importFile(db: Database, format: Format, path: String) throws -> ImportResult {
        let writer = ImportWriter(db: db)
        defer { _ = try? writer.finish() }  // on an early exit, still end the writer's thread
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CRMError.invalid(field: "body", message: "The request body could not be read.") }
        defer { close(fd) }
        var status = stat()
        var importer = CustomerImport(writer: writer, fileBytes: fstat(fd, &status) == 0 ? Int(status.st_size) : 0)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var lines = LineReader()
        var csv = CSVReader()
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            let chunk = buffer[0..<n]
            switch format {
            case .ndjson: try lines.feed(chunk) { try importer.take($0) }
            case .csv: try csv.feed(chunk) { try importer.take($0) }
            }
        }
        switch format {
        case .ndjson: try lines.finish { try importer.take($0) }
        case .csv: try csv.finish { try importer.take($0) }
        }
        try importer.flush()
        importer.count(try writer.finish())
        return importer.result
    }

    private mutating func take(_ record: ImportRecord) throws {
        switch record {
        case .tooLong(let line):
            reject(line, "The record is longer than 1 MiB.")
        case .record(let line, let bytes):
            do {
                let draft = try CustomerDraft(CustomerInput(json: JSONParser.parse(bytes)))
                add(line, draft)
            } catch let error as JSONParseError {
                reject(line, "The line is not valid JSON: \(error).")
            } catch let problem as Problem {
                reject(line, problem.detail ?? "invalid")
            } catch let error as CRMError {
                reject(line, error.problem.detail ?? "invalid")
            }
        case .fields(let line, let fields):
            guard let header else {
                let names = fields.map { $0.trimmingCharacters(in: .whitespaces) }
                try Self.checkHeader(names)
                self.header = names
                return
            }
            do {
                let draft = try CustomerDraft(Self.input(header: header, fields: fields))
                add(line, draft)
            } catch {
                reject(line, error.problem.detail ?? "invalid")
            }
        }
        if batch.count >= Self.batchSize { try flush() }
    }

    static let eventType = "customers.imported"

    /// `customers.imported`'s data: the counts as the import's answer gives them. The rejected lines
    /// stay in the answer to the administrator who sent the file (they quote customer data).
    static func eventData(_ result: ImportResult) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("imported")
        writer.int(result.imported)
        writer.key("updated")
        writer.int(result.updated)
        writer.key("rejectedCount")
        writer.int(result.rejectedCount)
        writer.endObject()
        return writer.bytes
    }

    /// A directory customer is found by email or phone (SPEC §7), so a file with neither column could only
    /// be refused line by line: the whole import is refused before any line is read (422 naming both).
    static func checkHeader(_ names: [String]) throws(CRMError) {
        guard names.contains("email") || names.contains("phone") else {
            throw .unprocessable(
                field: "header",
                message: "The CSV header has neither an email nor a phone column; one of them is required.")
        }
    }

    static func input(header: [String], fields: [String]) throws(CRMError) -> CustomerInput {
        guard fields.count == header.count else {
            throw .invalid(field: "line", message: "Expected \(header.count) fields, found \(fields.count).")
        }
        var input = CustomerInput()
        var attributes: [String: JSONValue] = [:]
        for (name, value) in zip(header, fields) {
            switch name {
            case "email": input.email = value
            case "phone": input.phone = value
            case "customerType": input.customerType = value
            case "loyaltyStatus": input.loyaltyStatus = value
            case "accountManager": input.accountManager = value
            case "lifetimeValue":
                guard !value.isEmpty else { continue }
                guard let number = Double(value.trimmingCharacters(in: .whitespaces)) else {
                    throw .invalid(field: "lifetimeValue", message: "lifetimeValue must be a number, got \"\(value)\".")
                }
                input.lifetimeValue = number
            default:
                if !name.isEmpty, !value.isEmpty { attributes[name] = .string(value) }
            }
        }
        input.attributes = attributes.isEmpty ? nil : attributes
        return input
    }

    private mutating func add(_ line: Int, _ draft: CustomerDraft) {
        if batch.isEmpty { batchTime = Timestamp.now() }
        let mayRepeat = keys.insert(email: draft.email, phone: draft.phone)
        let upsert = PreparedUpsert(draft, now: batchTime, id: Customer.newID(using: &random))
        batch.append((line, upsert, mayRepeat))
    }

    /// Keeps the first 100 rejections by line: a row refused when its batch is written (an identity
    /// clash) arrives after later rows' parse errors, so it is put in its place.
    private mutating func reject(_ line: Int, _ reason: String) {
        result.rejectedCount += 1
        let position = result.rejected.lastIndex { $0.line <= line }.map { $0 + 1 } ?? 0
        guard position < Self.listedRejections else { return }
        result.rejected.insert(.init(line: line, error: reason), at: position)
        if result.rejected.count > Self.listedRejections { result.rejected.removeLast() }
    }

    /// Hands the pending batch to the writer.
    private mutating func flush() throws {
        guard !batch.isEmpty else { return }
        count(try writer.submit(batch))
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func count(_ committed: [ImportWriter.Committed]) {
        for done in committed {
            result.imported += done.created
            result.updated += done.updated
            for (line, reason) in done.refused { reject(line, reason) }
        }
    }
}
