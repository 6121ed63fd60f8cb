/// The e-mails and phones an import has read so far, as a Bloom filter (each key sets 4 bits of one
/// 64-bit word). `insert` answers "maybe seen before": never wrong when it says no, rarely wrong when it
/// says yes. A bulk import loads a row without the key indexes only when the filter says no, so the row
/// cannot belong to an earlier one; the rest wait until the indexes are back (`ImportWriter`).
struct ImportKeyFilter {
    private var words: [UInt64]
    private let mask: Int

    /// Sized from the file: about one bit per 4 bytes (a 200 MB file of 1,000,000 customers: 8 MiB,
    /// 32 bits per key, well under 0.1 % wrong), at least 8 KiB, at most 8 MiB.
    init(fileBytes: Int) {
        let wanted = min(max(fileBytes / 256, 1 << 10), 1 << 20)
        var count = 1
        while count < wanted { count <<= 1 }
        words = [UInt64](repeating: 0, count: count)
        mask = count - 1
    }

    /// Adds the row's keys; true when either may have been added before.
    mutating func insert(email: String?, phone: String?) -> Bool {
        // Both are added whatever the first answers: a later row may share either.
        let emailSeen = email.map { insert($0, kind: 0) } ?? false
        let phoneSeen = phone.map { insert($0, kind: 1) } ?? false
        return emailSeen || phoneSeen
    }

    private mutating func insert(_ key: String, kind: UInt64) -> Bool {
        let hash = Self.hash(key, seed: kind)
        let index = Int(truncatingIfNeeded: hash) & mask
        // The word comes from the low bits, its four bits from four 6-bit slices of the high ones.
        var bits: UInt64 = 0
        for shift in stride(from: UInt64(40), through: 58, by: 6) { bits |= 1 << ((hash >> shift) & 63) }
        let seen = words[index] & bits == bits
        words[index] |= bits
        return seen
    }

    /// FNV-1a over the UTF-8 bytes, then MurmurHash3's finaliser to spread them over all 64 bits. Not
    /// `Hasher` (SipHash; measured at twice the cost here; see BENCHMARKS.md): a crafted file that
    /// collides only holds rows back, and `ImportWriter.heldBackLimit` bounds that.
    private static func hash(_ key: String, seed: UInt64) -> UInt64 {
        var key = key
        return key.withUTF8 { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash ^= hash >> 33
            hash &*= 0xff51_afd7_ed55_8ccd
            hash ^= hash >> 33
            hash &*= 0xc4ce_b9fe_1a85_ec53
            return hash ^ (hash >> 33)
        }
    }
}
