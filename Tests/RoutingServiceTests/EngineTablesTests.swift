import ConciergeModels
import TestSupport
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

/// `AgentTable`: agents by id in fixed slots, and skip lines made again only when their reason changes.
@Suite struct AgentTableTests {
    static func agent(_ id: String, load: Int = 0) -> AgentRecord {
        AgentRecord(
            seq: 1, id: id, name: id, email: "\(id)@example.com", role: .agent, active: true, availability: .available,
            inboxIDs: [], heroInboxID: nil, capacity: ChannelCounts(email: 3, messaging: 3, voice: 1, voicemail: 3),
            load: ChannelCounts(email: load, messaging: load, voice: 0, voicemail: 0), lastActivity: 0, createdAt: "now"
        )
    }

    @Test func slotsStayPutAndRecordsAreReplacedInPlace() {
        var table = AgentTable()
        table["a"] = Self.agent("a")
        table["b"] = Self.agent("b")
        #expect(table.slot(of: "a") == 0)
        #expect(table.slot(of: "b") == 1)
        table["a"] = Self.agent("a", load: 2)
        #expect(table.slot(of: "a") == 0)
        #expect(table["a"]?.load.email == 2)
        table[slot: 1].availability = .away
        #expect(table["b"]?.availability == .away)
        #expect(table["c"] == nil)
        #expect(Set(table.keys) == ["a", "b"])
        #expect(table.values.map(\.id) == ["a", "b"])
    }

    @Test func aSkipLineFollowsItsReason() {
        var table = AgentTable()
        table["a"] = Self.agent("a")
        let full = EngineState.Ineligibility.atCapacity(load: 3, capacity: 3, .messaging)
        #expect(table.skipLine(slot: 0, full) == "a: at capacity (3/3 messaging)")
        #expect(table.skipLine(slot: 0, full) == "a: at capacity (3/3 messaging)")
        #expect(
            table.skipLine(slot: 0, .atCapacity(load: 4, capacity: 3, .messaging)) == "a: at capacity (4/3 messaging)")
        #expect(table.skipLine(slot: 0, .unavailable(.away)) == "a: away")
        #expect(table.skipLine(slot: 0, .inactive) == "a: inactive")
    }
}
