import ConciergeModels
import Foundation
import TestSupport
import Testing

@testable import RoutingService

/// `StoredDecision`: a decision's JSON packed for its row and unpacked byte for byte.
@Suite struct StoredDecisionTests {
    /// The decision of the routing benchmark's worst case: 25 members at capacity, 20 of them listed.
    static func crowdedDecision() throws -> [UInt8] {
        let inbox = Identifier.make()
        var trace = [
            TraceStep(step: "event", outcome: "new messaging message"),
            TraceStep(step: "dedicatedHero", outcome: "hero team inbox \(inbox)"),
        ]
        for _ in 0..<20 {
            trace.append(TraceStep(step: "skip", outcome: "\(Identifier.make()): at capacity (3/3 messaging)"))
        }
        trace.append(TraceStep(step: "skip", outcome: "and 5 more"))
        trace.append(TraceStep(step: "select", outcome: "no eligible member of inbox \(inbox) for messaging"))
        trace.append(TraceStep(step: "queue", outcome: "waiting in the implicit queue of inbox \(inbox)"))
        let result = RouteResult(
            conversationId: "conversation-1", routingState: .queued, assigneeId: nil, inboxId: inbox, queueId: nil,
            replies: [], trace: trace, version: 308_846, decidedAt: "2026-12-02T02:03:44.971Z")
        return try JSONCoding.encode(result)
    }

    @Test func aCrowdedDecisionPacksToUnderAThirdAndBack() throws {
        let json = try Self.crowdedDecision()
        let packed = StoredDecision.pack(json)
        #expect(json.count > 2_400)
        #expect(packed.count * 3 < json.count, "\(json.count) bytes packed to \(packed.count)")
        #expect(StoredDecision.unpack(packed) == json)
        #expect(try JSONCoding.decode(RouteResult.self, from: StoredDecision.unpack(packed) ?? []).trace.count == 25)
    }

    /// Rows written before packing hold plain JSON, which reads back as it is.
    @Test func plainJSONReadsBackUnchanged() throws {
        let json = try Self.crowdedDecision()
        #expect(StoredDecision.unpack(json) == json)
        #expect(StoredDecision.unpack([]) == [])
    }

    /// Every fragment, UUIDs in and out of canonical form (upper case, a digit short, at the very end,
    /// back to back), escapes and other scripts: whatever goes in comes out.
    @Test func anyJSONTextRoundTrips() {
        let pieces: [String] =
            StoredDecision.fragments.map { String(decoding: $0, as: UTF8.self) } + [
                "01a23474-46ab-7a1f-9bd2-32bc9564ceb4", "01A23474-46AB-7A1F-9BD2-32BC9564CEB4",
                "01a23474-46ab-7a1f-9bd2-32bc9564ceb",
                "01a23474-46ab-7a1f-9bd2_32bc9564ceb4", "0123456789abcdef", "-", "\\u0001", "\\n", "é", "👩‍💻", " ", "\"",
                "{", "}", ",",
                "3/3", "f", "9", "a@b.c",
            ]
        var random = SplitMix64(seed: 0x5EED)
        for round in 0..<2_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 40) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            let json = Array(text.utf8)
            let packed = StoredDecision.pack(json)
            #expect(packed.count <= json.count, "round \(round)")
            #expect(StoredDecision.unpack(packed) == json, "round \(round): \(text)")
        }
    }

    /// Random decisions as the store writes them (`JSONCoding.encode`, then packed): the JSON holds no
    /// raw byte below 0x20, the packing's premise, and reads back byte for byte and as the same decision.
    @Test func randomDecisionsPackAndReadBackUnchanged() throws {
        var random = SplitMix64(seed: 0xDEC1_5105)
        for round in 0..<500 {
            var result = random.routeResult()
            if random.chance(2) {
                let inbox = Identifier.make()
                result.inboxId = inbox
                result.trace += (0..<random.below(25)).map { _ in
                    TraceStep(
                        step: "skip", outcome: "\(Identifier.make()): at capacity (\(random.below(4))/3 messaging)")
                }
                result.trace.append(
                    TraceStep(step: "select", outcome: "no eligible member of inbox \(inbox) for messaging"))
            }
            let json = try JSONCoding.encode(result)
            #expect(json.allSatisfy { $0 >= 0x20 }, "round \(round)")
            let packed = StoredDecision.pack(json)
            #expect(packed.count <= json.count, "round \(round)")
            let unpacked = try #require(StoredDecision.unpack(packed), "round \(round)")
            #expect(unpacked == json, "round \(round)")
            #expect(try JSONCoding.decode(RouteResult.self, from: unpacked) == result, "round \(round)")
        }
    }

    /// A cut-off UUID code or a byte that is not a code is damage, not text.
    @Test func brokenPackingIsRefused() {
        let uuid = Array("01a23474-46ab-7a1f-9bd2-32bc9564ceb4".utf8)
        let packed = StoredDecision.pack(uuid)
        #expect(packed.count == 17)
        #expect(StoredDecision.unpack(Array(packed.dropLast())) == nil)
        #expect(StoredDecision.unpack([0x00]) == nil)
        #expect(StoredDecision.unpack([UInt8(StoredDecision.fragments.count + 1)]) == nil)
    }
}
