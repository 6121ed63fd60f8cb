/// Incremental readers for import bodies: they take the body in chunks of any size and hand out
/// whole records with the line number each starts on, so an import never holds the whole body.

/// One record of an import: its first line number and its bytes, or why it was refused.
enum ImportRecord {
    case record(line: Int, [UInt8])
    case fields(line: Int, [String])
    case tooLong(line: Int)
}

/// Splits NDJSON into lines: `\n` ends a line, a trailing `\r` and a leading UTF-8 BOM are dropped,
/// empty lines are skipped, a line over `maxBytes` is reported and skipped.
struct LineReader {
    let maxBytes: Int
    private var current: [UInt8] = []
    private var line = 1
    private var tooLong = false
    private var atStart = true

    init(maxBytes: Int = 1 << 20) { self.maxBytes = maxBytes }

    mutating func feed(_ chunk: some Collection<UInt8>, _ emit: (ImportRecord) throws -> Void) rethrows {
        var bytes = chunk[...]
        if atStart {
            atStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        while let newline = bytes.firstIndex(of: 10) {
            append(bytes[..<newline])
            try end(emit)
            bytes = bytes[bytes.index(after: newline)...]
        }
        append(bytes)
    }

    mutating func finish(_ emit: (ImportRecord) throws -> Void) rethrows {
        if !current.isEmpty || tooLong { try end(emit) }
    }

    /// Adds bytes to the current line, or drops them once it is over `maxBytes`.
    private mutating func append(_ bytes: some Collection<UInt8>) {
        guard !tooLong else { return }
        if current.count + bytes.count > maxBytes {
            tooLong = true
            current = []
        } else {
            current.append(contentsOf: bytes)
        }
    }

    private mutating func end(_ emit: (ImportRecord) throws -> Void) rethrows {
        if tooLong {
            try emit(.tooLong(line: line))
        } else {
            if current.last == 13 { current.removeLast() }
            if current.contains(where: { $0 != 32 && $0 != 9 }) { try emit(.record(line: line, current)) }
        }
        current.removeAll(keepingCapacity: true)
        tooLong = false
        line += 1
    }
}

/// RFC 4180 CSV: fields separated by commas, quoted fields with `""` for a quote and embedded
/// commas and line breaks, CRLF or LF record ends, a leading BOM dropped, records over `maxBytes`
/// reported and skipped.
struct CSVReader {
    let maxBytes: Int
    private var fields: [String] = []
    private var field: [UInt8] = []
    private var inQuotes = false
    private var quoteSeen = false
    private var size = 0
    private var line = 1
    private var recordLine = 1
    private var tooLong = false
    private var atStart = true
    private var hasContent = false

    init(maxBytes: Int = 1 << 20) { self.maxBytes = maxBytes }

    mutating func feed(_ chunk: some Collection<UInt8>, _ emit: (ImportRecord) throws -> Void) rethrows {
        var bytes = chunk[...]
        if atStart {
            atStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        for byte in bytes {
            size += 1
            if size > maxBytes { tooLong = true }
            if inQuotes {
                if byte == 34 {
                    inQuotes = false
                    quoteSeen = true
                } else {
                    if byte == 10 { line += 1 }
                    append(byte)
                }
                continue
            }
            switch byte {
            case 34:
                // A quote right after a closing quote is an escaped quote; at a field's start it opens one.
                if quoteSeen { append(34) }
                inQuotes = true
                quoteSeen = false
                hasContent = true
            case 44:
                endField()
            case 10:
                try endRecord(emit)
                line += 1
                recordLine = line
            case 13:
                quoteSeen = false  // dropped: CRLF ends a record at the LF
            default:
                quoteSeen = false
                append(byte)
            }
        }
    }

    mutating func finish(_ emit: (ImportRecord) throws -> Void) rethrows {
        if hasContent || !field.isEmpty || !fields.isEmpty { try endRecord(emit) }
    }

    private mutating func append(_ byte: UInt8) {
        hasContent = true
        if !tooLong { field.append(byte) }
    }

    private mutating func endField() {
        hasContent = true
        quoteSeen = false
        if !tooLong { fields.append(String(decoding: field, as: UTF8.self)) }
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ emit: (ImportRecord) throws -> Void) rethrows {
        if tooLong {
            try emit(.tooLong(line: recordLine))
        } else if hasContent || !field.isEmpty {
            endField()
            try emit(.fields(line: recordLine, fields))
        }
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        quoteSeen = false
        hasContent = false
        tooLong = false
        size = 0
    }
}
