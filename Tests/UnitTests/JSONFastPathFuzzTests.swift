import ConciergeJSON
import Foundation
import TestSupport
import Testing

@testable import ConciergeModels

/// The JSON fast paths against the plain ones on random values: every `JSONWritable` type's bytes
/// decode to the value itself and to the same JSON as `JSONEncoder`'s, and every `JSONReadable`
/// type built from `JSONEncoder`'s bytes (or the writer's) is the value `JSONDecoder` builds.
@Suite struct JSONFastPathFuzzTests {
    private static let rounds = 300

    @Test func everyWritableTypeMatchesTheEncoder() throws {
        var random = SplitMix64(seed: 0x3B1D_2026)
        for round in 0..<Self.rounds {
            let contact = random.contact()
            try expectWriterMatchesEncoder(contact, round)
            try expectWriterMatchesEncoder(ResolveResult(contact: contact, created: random.chance(2)), round)
            try expectWriterMatchesEncoder(
                Page(items: (0..<random.below(3)).map { _ in random.contact() }, nextCursor: random.optionalText()),
                round)
            try expectWriterMatchesEncoder(random.routeResult(), round)
            try expectWriterMatchesEncoder(random.routeRequest(), round)
            try expectWriterMatchesEncoder(random.routeContact(), round)
            try expectWriterMatchesEncoder(random.resolveRequest(), round)
            try expectWriterMatchesEncoder(random.inboundResult(), round)
            try expectWriterMatchesEncoder(random.conversation(), round)
            try expectWriterMatchesEncoder(random.message(), round)
        }
    }

    @Test func everyReadableTypeBuildsWhatTheDecoderBuilds() throws {
        var random = SplitMix64(seed: 0x2EAD_2026)
        for round in 0..<Self.rounds {
            let contact = random.contact()
            try expectReaderMatchesDecoder(contact, round)
            try expectReaderMatchesDecoder(ResolveResult(contact: contact, created: random.chance(2)), round)
            try expectReaderMatchesDecoder(random.routeResult(), round)
            try expectReaderMatchesDecoder(random.routeRequest(), round)
            try expectReaderMatchesDecoder(random.routeContact(), round)
            try expectReaderMatchesDecoder(random.resolveRequest(), round)
            try expectReaderMatchesDecoder(random.inboundRequest(), round)
        }
    }

    /// The writer's bytes, decoded, are `value`; as a JSON tree they equal the encoder's (key order aside).
    private func expectWriterMatchesEncoder<T: JSONWritable & Codable & Equatable>(_ value: T, _ round: Int) throws {
        var writer = JSONWriter()
        value.write(to: &writer)
        let fast = Data(writer.bytes)
        let reference = try JSONEncoder().encode(value)
        let text = String(decoding: fast, as: UTF8.self)
        #expect(try JSONDecoder().decode(T.self, from: fast) == value, "round \(round): \(text)")
        #expect(
            try JSONDecoder().decode(JSONValue.self, from: fast)
                == JSONDecoder().decode(JSONValue.self, from: reference),
            "round \(round): \(text)")
        #expect(try JSONCoding.encode(value) == writer.bytes, "JSONCoding.encode takes the writer")
    }

    /// Built from `JSONParser`'s tree of the encoder's bytes and of the writer's: `value`, as
    /// `JSONDecoder` builds it. Only a version a `Double` cannot hold exactly may send it to `JSONDecoder`.
    private func expectReaderMatchesDecoder<T: JSONReadable & Codable & Equatable>(_ value: T, _ round: Int) throws {
        var encodings = [Array(try JSONEncoder().encode(value))]
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter()
            writable.write(to: &writer)
            encodings.append(writer.bytes)
        }
        for bytes in encodings {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(try JSONDecoder().decode(T.self, from: Data(bytes)) == value, "round \(round): \(text)")
            let fast = T(json: try JSONParser.parse(bytes))
            if let version = (value as? RouteResult)?.version, abs(Double(version)) >= 9.0e15 {
                #expect(fast == nil || fast == value, "round \(round): \(text)")
            } else {
                #expect(fast == value, "round \(round): \(text)")
            }
            #expect(try JSONCoding.decode(T.self, from: bytes) == value, "round \(round): \(text)")
        }
    }
}
