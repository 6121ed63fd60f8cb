extension SpamFilter {
    /// Lower-cased runs of Unicode letters and digits (`Æblegrød`, `zł`, `50%` → `50`): a scalar is part of
    /// a word when it `isAlphabetic` or has a `numericType`, and a word is lower-cased as
    /// `String.lowercased()` does, scalar by scalar.
    ///
    /// Read as UTF-8 bytes, which is most of what makes judging a message cheap enough to do on every
    /// inbound message (`Benchmarks/spam-classify.sh`; figures in BENCHMARKS.md): ASCII is decided and lower-cased in place, scalars below U+0800 (Latin, Greek,
    /// Cyrillic, Hebrew, Arabic) through `ScalarTable`, and only rarer scalars ask Unicode's properties;
    /// a word holding one of those is lower-cased with `String.lowercased()`. `SpamFilterTests` keeps the
    /// examples; equality with the scalar-by-scalar definition was checked on random text of every range.
    static func tokens(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { tokens(utf8: $0) }
    }

    private static func tokens(utf8: UnsafeBufferPointer<UInt8>) -> [String] {
        var result: [String] = []
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var isLowered = true  // every byte in `word` is lower-cased already
        let table = ScalarTable.shared
        var i = 0
        while i < utf8.count {
            let byte = utf8[i]
            let inWord: Bool
            if byte < 0x80 {
                inWord = table.kind[Int(byte)] != 0
                if inWord { word.append(byte &- 0x41 < 26 ? byte | 0x20 : byte) }
                i += 1
            } else if byte < 0xE0 {  // a two-byte scalar (the string is valid UTF-8)
                let value = Int(byte & 0x1F) << 6 | Int(utf8[i + 1] & 0x3F)
                let kind = Int(table.kind[value])
                inWord = kind != 0
                if inWord { for k in 0..<(kind - 1) { word.append(table.lowered[value * 4 + k]) } }
                i += 2
            } else {
                let length = byte >= 0xF0 ? 4 : 3
                var value = UInt32(byte) & (length == 3 ? 0x0F : 0x07)
                for k in 1..<length { value = value << 6 | UInt32(utf8[i + k] & 0x3F) }
                let scalar = Unicode.Scalar(value) ?? " "
                inWord = scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                if inWord {
                    for k in 0..<length { word.append(utf8[i + k]) }
                    isLowered = false
                }
                i += length
            }
            if !inWord && !word.isEmpty {
                let text = String(decoding: word, as: UTF8.self)
                result.append(isLowered ? text : text.lowercased())
                word.removeAll(keepingCapacity: true)
                isLowered = true
            }
        }
        if !word.isEmpty {
            let text = String(decoding: word, as: UTF8.self)
            result.append(isLowered ? text : text.lowercased())
        }
        return result
    }
}

/// Unicode's answers for every scalar below U+0800 (one or two UTF-8 bytes), looked up once:
/// `kind[scalar]` is 0 when the scalar is not part of a word, else 1 + the UTF-8 length of its
/// lower-case mapping (at most 4 bytes), which is in `lowered[scalar * 4 ..< scalar * 4 + length]`.
private final class ScalarTable: Sendable {
    static let shared = ScalarTable()
    static let limit = 0x800

    let kind: [UInt8]
    let lowered: [UInt8]

    private init() {
        var kind = [UInt8](repeating: 0, count: Self.limit)
        var lowered = [UInt8](repeating: 0, count: Self.limit * 4)
        for value in 0..<Self.limit {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let mapping = Array(scalar.properties.lowercaseMapping.utf8)
            precondition(mapping.count <= 4, "the lower-case mapping of U+\(value) is longer than 4 bytes")
            let isWord = scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            kind[value] = isWord ? UInt8(1 + mapping.count) : 0
            for (k, byte) in mapping.enumerated() { lowered[value * 4 + k] = byte }
        }
        self.kind = kind
        self.lowered = lowered
    }
}
