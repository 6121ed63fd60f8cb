/// A dictionary split into a fixed number of smaller ones by the key's hash, so that it never
/// grows all at once. A Swift `Dictionary` that outgrows its storage rehashes every entry into a
/// new table in one step: routing's table of conversations stalled every decision in flight while it
/// grew (fresh pages faulted in and every key hashed again, under the engine's lock). Here each shard
/// grows alone, at 1/64 of that size; with an even spread of keys the shards cross their limits one
/// request at a time. Evidence: `Benchmarks/routing.sh`, BENCHMARKS.md "Routing decisions" ("the table of
/// conversations growing"); behaves as one `Dictionary`: `ShardedDictionaryTests` (`EngineTablesTests.swift`).
struct ShardedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private static var shardCount: Int { 64 }
    private var shards = [[Key: Value]](repeating: [:], count: Self.shardCount)
    private(set) var count = 0

    init() {}

    @inline(__always)
    private static func shard(_ key: Key) -> Int {
        // The low bits of Swift's (seeded) hash; the shard's own table uses the hash again.
        key.hashValue & (shardCount - 1)
    }

    subscript(key: Key) -> Value? {
        get { shards[Self.shard(key)][key] }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            if shards[Self.shard(key)].updateValue(newValue, forKey: key) == nil { count += 1 }
        }
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let removed = shards[Self.shard(key)].removeValue(forKey: key)
        if removed != nil { count -= 1 }
        return removed
    }

    /// Every value, shard by shard (no particular order, as with `Dictionary`).
    var values: [Value] { shards.flatMap(\.values) }

    /// Room for this many entries before any shard grows, and the largest shard's room (for tests).
    var capacity: (total: Int, largestShard: Int) {
        (shards.reduce(0) { $0 + $1.capacity }, shards.map(\.capacity).max() ?? 0)
    }
}
