import Testing

@testable import RoutingService

/// `ShardedDictionary` (routing's table of conversations) behaves as one `Dictionary`, and grows a
/// shard at a time.
@Suite struct ShardedDictionaryTests {
    @Test func matchesADictionaryThroughRandomInsertsUpdatesAndRemovals() {
        var generator = SplitMix64(seed: 0x5EED)
        var sharded = ShardedDictionary<String, Int>()
        var plain: [String: Int] = [:]
        for step in 0..<20_000 {
            let key = "conversation-\(generator.next() % 3_000)"
            switch generator.next() % 4 {
            case 0:
                #expect(sharded.removeValue(forKey: key) == plain.removeValue(forKey: key))
            case 1:
                sharded[key] = nil
                plain[key] = nil
            default:
                sharded[key] = step
                plain[key] = step
            }
            #expect(sharded[key] == plain[key])
        }
        #expect(sharded.count == plain.count)
        #expect(sharded.values.sorted() == plain.values.sorted())
        for (key, value) in plain { #expect(sharded[key] == value) }
        #expect(sharded["never-inserted"] == nil)
    }

    @Test func growsOneSmallShardAtATime() {
        var sharded = ShardedDictionary<String, Int>()
        var previous = sharded.capacity.total
        var largestGrowth = 0
        for index in 0..<100_000 {
            sharded["conversation-\(index)"] = index
            let capacity = sharded.capacity.total
            largestGrowth = max(largestGrowth, capacity - previous)
            previous = capacity
        }
        #expect(sharded.count == 100_000)
        // One insert never makes room for more than a shard's worth (a plain Dictionary here would
        // double to 196,608 in one step).
        #expect(largestGrowth <= sharded.capacity.largestShard)
        #expect(sharded.capacity.largestShard * 16 < sharded.capacity.total)
    }
}
