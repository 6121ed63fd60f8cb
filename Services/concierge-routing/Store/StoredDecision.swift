/// Decisions as stored: their JSON with its most common fragments and every lower-case UUID packed
/// into one byte and seventeen. A decision's trace names every agent considered and why each was
/// skipped, so a decision at a 25-agent inbox is 2,514 bytes of JSON, a 4 KiB page to itself: every
/// decision appended a page to the WAL. Packed it is about a third of that, several to a page, and
/// routing's p99 follows (see BENCHMARKS.md). The answer sent is the JSON itself, never packed.
///
/// The JSON we write never holds a raw byte below 0x20 (inside strings those are escaped), so such a
/// byte is a code: 0x01–0x1E stand for `fragments`, 0x1F for a UUID whose 16 bytes follow. A body
/// stored before packing existed (plain JSON) reads back unchanged.
enum StoredDecision {
    /// Fragments of `RouteResult` JSON and of the trace's wording; order is the format: append only.
    static let fragments: [[UInt8]] = [
        #"{"conversationId":""#, #"","routingState":""#, #"","assigneeId":"#, #","inboxId":""#, #","queueId":"#,
        #","replies":["#, #"],"tags":["#, #"],"trace":[{"step":""#, #"{"step":"skip","outcome":""#, #"},{"step":""#,
        #"","outcome":""#, ": at capacity (", #" messaging)"}"#, #" email)"}"#, #" voice)"}"#, #"],"version":"#,
        #","decidedAt":""#, "null", "queued", "assigned", "dedicatedHero", "hero team inbox ", "hero agent ",
        "no eligible member of inbox ", "waiting in the implicit queue of inbox ", " chosen by ", "round_robin",
        "least_busy", "messaging", "select",
    ].map { Array($0.utf8) }
    static let uuidCode: UInt8 = 0x1F

    /// For each first byte, the codes of the fragments starting with it, longest first.
    private static let codesByFirstByte: [[UInt8]] = {
        var table = [[UInt8]](repeating: [], count: 256)
        for (index, fragment) in fragments.enumerated() { table[Int(fragment[0])].append(UInt8(index + 1)) }
        return table.map { codes in codes.sorted { fragments[Int($0) - 1].count > fragments[Int($1) - 1].count } }
    }()

    static func pack(_ json: [UInt8]) -> [UInt8] {
        precondition(fragments.count < Int(uuidCode), "too many fragments for the codes below 0x1F")
        var packed: [UInt8] = []
        packed.reserveCapacity(json.count / 2)
        var index = 0
        next: while index < json.count {
            if let uuid = uuid(in: json, at: index) {
                packed.append(uuidCode)
                packed.append(contentsOf: uuid)
                index += 36
                continue
            }
            for code in codesByFirstByte[Int(json[index])] {
                let fragment = fragments[Int(code) - 1]
                if json.count - index >= fragment.count, json[index..<index + fragment.count].elementsEqual(fragment) {
                    packed.append(code)
                    index += fragment.count
                    continue next
                }
            }
            packed.append(json[index])
            index += 1
        }
        return packed
    }

    /// The JSON of a stored body; nil if the packing is broken (a code below 0x20 that is not one).
    static func unpack(_ stored: [UInt8]) -> [UInt8]? {
        var json: [UInt8] = []
        json.reserveCapacity(stored.count * 3)
        var index = 0
        while index < stored.count {
            let byte = stored[index]
            index += 1
            switch byte {
            case 0x20...: json.append(byte)
            case uuidCode:
                guard stored.count - index >= 16 else { return nil }
                for (position, value) in stored[index..<index + 16].enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 { json.append(UInt8(ascii: "-")) }
                    json.append(hexDigits[Int(value >> 4)])
                    json.append(hexDigits[Int(value & 0xF)])
                }
                index += 16
            case 1...UInt8(fragments.count): json.append(contentsOf: fragments[Int(byte) - 1])
            default: return nil
            }
        }
        return json
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The 16 bytes of a canonical lower-case UUID (8-4-4-4-12 hex digits) starting at `index`.
    private static func uuid(in json: [UInt8], at index: Int) -> [UInt8]? {
        // Most bytes start no UUID: the first dash rules them out cheaply.
        guard json.count - index >= 36, json[index + 8] == UInt8(ascii: "-") else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var nibbles = 0
        for offset in 0..<36 {
            let byte = json[index + offset]
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let value = hexValue(byte) else { return nil }
            if nibbles % 2 == 0 { bytes.append(value << 4) } else { bytes[bytes.count - 1] |= value }
            nibbles += 1
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
