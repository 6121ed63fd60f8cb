import Foundation
import Glibc
import Models
import Storage

/// `POST /v1/customers/import` (SPEC §7): reads the spooled body in chunks, parses NDJSON or CSV
/// record by record, and upserts in batches of 1,000 per transaction. A bad record is listed with
/// its line number and never stops the rest.
struct CustomerImport {
    enum Format {
        case ndjson
        case csv
    }

    let db: Database
    let format: Format
    /// Rejections listed in the answer; all are counted.
    static let listedRejections = 100
    static let batchSize = 1000

    private var result = ImportResult(imported: 0, updated: 0, rejected: [], rejectedCount: 0)
    private var batch: [(line: Int, draft: CustomerDraft)] = []
    private var header: [String]?

    init(db: Database, format: Format) {
        self.db = db
        self.format = format
    }

    /// Imports the file at `path` (a spooled request body).
    static func run(db: Database, format: Format, path: String) throws -> ImportResult {
        var importer = CustomerImport(db: db, format: format)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CRMError.invalid(field: "body", message: "The request body could not be read.") }
        defer { close(fd) }
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
        return importer.result
    }

    private mutating func take(_ record: ImportRecord) throws {
        switch record {
        case .tooLong(let line):
            reject(line, "The record is longer than 1 MiB.")
        case .record(let line, let bytes):
            do {
                let input = try JSONDecoder().decode(CustomerInput.self, from: Data(bytes))
                try add(line, CustomerDraft(input))
            } catch let error as CRMError {
                reject(line, error.problem.detail ?? "invalid")
            } catch let error as DecodingError {
                reject(line, JSONCoding.problem(for: error).detail ?? "invalid JSON")
            } catch {
                reject(line, "The line is not valid JSON.")
            }
        case .fields(let line, let fields):
            guard let header else {
                self.header = fields.map { $0.trimmingCharacters(in: .whitespaces) }
                return
            }
            do {
                try add(line, CustomerDraft(Self.input(header: header, fields: fields)))
            } catch let error as CRMError {
                reject(line, error.problem.detail ?? "invalid")
            }
        }
        if batch.count >= Self.batchSize { try flush() }
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

    private mutating func add(_ line: Int, _ draft: CustomerDraft) throws {
        batch.append((line, draft))
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

    /// Writes the pending batch in one transaction; a row refused by the directory (an email and a
    /// phone owned by two customers) is rejected alone.
    private mutating func flush() throws {
        guard !batch.isEmpty else { return }
        let pending = batch
        batch.removeAll(keepingCapacity: true)
        let outcomes = try db.write { connection in
            try pending.map { entry -> (line: Int, created: Bool?, error: String?) in
                do {
                    let (_, created) = try CustomerStore.upsert(connection, entry.draft)
                    return (entry.line, created, nil)
                } catch let error as CRMError {
                    return (entry.line, nil, error.problem.detail ?? "refused")
                }
            }
        }
        for outcome in outcomes {
            if let error = outcome.error {
                reject(outcome.line, error)
            } else if outcome.created == true {
                result.imported += 1
            } else {
                result.updated += 1
            }
        }
    }
}
