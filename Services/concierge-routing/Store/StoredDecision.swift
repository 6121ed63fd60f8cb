import Glibc

/// Decisions as stored: their JSON with its most common fragments and every lower-case UUID packed
/// into one byte and seventeen. A decision's trace names every agent considered and why each was
/// skipped, so a decision at a 25-agent inbox fills a 4 KiB page alone: every decision appended a
/// page to the WAL. Packed it is under a third of that, several to a page, and routing's tail latency
/// follows. The answer sent is the JSON itself, never packed.
/// Evidence: `Benchmarks/routing.sh`, BENCHMARKS.md "Routing decisions" ("decisions stored packed"); the
/// JSON comes back byte for byte: `StoredDecisionTests`.
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

    /// The fragments' bytes end to end and where each one starts; for each first byte, the codes of the
    /// fragments starting with it, longest first (`candidates[byte]`, a range of `codes`). Flat arrays of
    /// numbers, so the packing loop reads them without retaining anything.
    private static let fragmentBytes = fragments.flatMap { $0 }
    private static let fragmentStarts = fragments.reduce(into: [0]) { starts, fragment in
        starts.append(starts.last! + fragment.count)
    }
    private static let (codes, candidates): ([UInt8], [Range<Int>]) = {
        precondition(fragments.count < Int(uuidCode), "too many fragments for the codes below 0x1F")
        var codes: [UInt8] = []
        var candidates: [Range<Int>] = []
        for byte in 0..<256 {
            let start = codes.count
            codes += fragments.indices.filter { Int(fragments[$0][0]) == byte }.sorted {
                fragments[$0].count > fragments[$1].count
            }
            .map { UInt8($0 + 1) }
            candidates.append(start..<codes.count)
        }
        return (codes, candidates)
    }()

    static func pack(_ json: [UInt8]) -> [UInt8] {
        var packed: [UInt8] = []
        packed.reserveCapacity(json.count / 2)
        let (fragmentBytes, fragmentStarts, codes, candidates) = (fragmentBytes, fragmentStarts, codes, candidates)
        json.withUnsafeBufferPointer { json in
            fragmentBytes.withUnsafeBufferPointer { fragmentBytes in
                var index = 0
                next: while index < json.count {
                    if appendUUID(from: json, at: index, to: &packed) {
                        index += 36
                        continue
                    }
                    for candidate in candidates[Int(json[index])] {
                        let code = codes[candidate]
                        let start = fragmentStarts[Int(code) - 1]
                        let count = fragmentStarts[Int(code)] - start
                        if json.count - index >= count,
                            memcmp(json.baseAddress! + index, fragmentBytes.baseAddress! + start, count) == 0
                        {
                            packed.append(code)
                            index += count
                            continue next
                        }
                    }
                    packed.append(json[index])
                    index += 1
                }
            }
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
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        json.append(UInt8(ascii: "-"))
                    }
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

    /// Appends `uuidCode` and the 16 bytes of the canonical lower-case UUID (8-4-4-4-12 hex digits)
    /// starting at `index`, if there is one.
    @inline(__always)
    private static func appendUUID(from json: UnsafeBufferPointer<UInt8>, at index: Int, to packed: inout [UInt8])
        -> Bool
    {
        // Most bytes start no UUID: the dashes rule them out cheaply.
        let dash = UInt8(ascii: "-")
        guard json.count - index >= 36, json[index + 8] == dash else { return false }
        guard json[index + 13] == dash, json[index + 18] == dash, json[index + 23] == dash else { return false }
        var bytes: (UInt64, UInt64) = (0, 0)
        var nibbles = 0
        for offset in 0..<36 where offset != 8 && offset != 13 && offset != 18 && offset != 23 {
            guard let value = hexValue(json[index + offset]) else { return false }
            if nibbles < 16 { bytes.0 = bytes.0 << 4 | UInt64(value) } else { bytes.1 = bytes.1 << 4 | UInt64(value) }
            nibbles += 1
        }
        packed.append(uuidCode)
        withUnsafeBytes(of: (bytes.0.bigEndian, bytes.1.bigEndian)) { packed.append(contentsOf: $0) }
        return true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
