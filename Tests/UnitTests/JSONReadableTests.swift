import ConciergeJSON
import Foundation
import TestSupport
import Testing

@testable import ConciergeModels

/// `JSONReadable`: the fast path of `JSONCoding.decode` builds exactly what `JSONDecoder` builds, and
/// never accepts what `JSONDecoder` refuses (those fall back, so errors read as before).
@Suite struct JSONReadableTests {
    /// Valid bodies of each hot type: full, minimal, with `null` optionals, unknown fields, escapes.
    static let samples: [(type: any (JSONReadable & Decodable & Equatable).Type, json: String)] = [
        (
            RouteRequest.self,
            #"{"conversationId":"c1","event":"new","channel":"email","inboxId":"i1","contact":{"id":"k1","name":"Ann \"A\" \u00e9","#
                + #""emails":["a@x.example"],"phones":["+4520000000"],"tags":["vip"],"attributes":{"tier":"gold"},"#
                + #""dedicatedHero":{"type":"agent","id":"ag1"}},"message":{"id":"m1","body":"Hello\nthere"},"extra":[1,{"a":null}]}"#
        ),
        (
            RouteRequest.self,
            #"{"conversationId":"c1","event":"rerouted","channel":"voice","contact":{"id":"k1"},"message":{"id":"m1"}}"#
        ),
        (
            RouteRequest.self,
            #"{"conversationId":"c1","event":"message","channel":"messaging","inboxId":null,"contact":{"id":"k1","name":null,"#
                + #""emails":null,"dedicatedHero":null},"message":{"id":"m1","body":null}}"#
        ),
        (
            RouteResult.self,
            #"{"conversationId":"c1","routingState":"assigned","assigneeId":"a1","inboxId":"i1","queueId":null,"#
                + #""replies":[{"body":"Hi"}],"tags":["t"],"trace":[{"step":"hero","outcome":"skipped: away"}],"version":7,"#
                + #""decidedAt":"2026-12-01T00:00:00.000Z"}"#
        ),
        (RouteResult.self, #"{"conversationId":"c1","routingState":"pending","version":0}"#),
        (RouteResult.self, #"{"conversationId":"c1","routingState":"queued","version":1e2,"assigneeId":null}"#),
        (ResolveRequest.self, #"{"channel":"email","address":"A@X.example","name":"Ann"}"#),
        (ResolveRequest.self, #"{"channel":"voice","address":"+45 20 00 00 00","name":null}"#),
        (
            ResolveResult.self,
            #"{"contact":{"id":"k1","name":"Ann","emails":["a@x.example"],"phones":[],"handles":[{"channel":"chat","value":"u1"}],"#
                + #""tags":[],"attributes":{"a":"b"},"blocked":false,"dedicatedHero":{"type":"inbox","id":"i9"},"mergedInto":null,"#
                + #""createdAt":"2026-12-01T00:00:00.000Z","updatedAt":"2026-12-01T00:00:01.000Z"},"created":true}"#
        ),
        (
            ResolveResult.self,
            #"{"created":false,"contact":{"id":"k1","name":"","emails":[],"phones":[],"handles":[],"tags":[],"attributes":{},"#
                + #""blocked":true,"mergedInto":"k2","createdAt":"x","updatedAt":"y"}}"#
        ),
        (
            InboundRequest.self,
            #"{"channel":"email","from":"a@x.example","name":"Ann","subject":"Order","body":"Where\u0021","conversationId":"c1","externalId":"e1"}"#
        ),
        (InboundRequest.self, #"{"channel":"messaging","from":"u1","body":"","subject":null,"unknown":true}"#),
    ]

    @Test(arguments: 0..<samples.count)
    func buildsWhatJSONDecoderBuilds(index: Int) throws {
        let (type, json) = Self.samples[index]
        try expectSameAsDecoder(type, Array(json.utf8), mustBeFast: true)
    }

    /// Bodies `JSONDecoder` refuses: the fast path refuses them too, and `JSONCoding.decode` still
    /// answers `JSONDecoder`'s 400 (the field path in it shows it came from there).
    @Test func refusesWhatJSONDecoderRefuses() throws {
        let refused: [(any (JSONReadable & Decodable & Equatable).Type, String, field: String?)] = [
            (
                RouteRequest.self, #"{"event":"new","channel":"email","contact":{"id":"k"},"message":{"id":"m"}}"#,
                "conversationId"
            ),
            (
                RouteRequest.self,
                #"{"conversationId":"c","event":"born","channel":"email","contact":{"id":"k"},"message":{"id":"m"}}"#,
                "event"
            ),
            (
                RouteRequest.self,
                #"{"conversationId":"c","event":"new","channel":"email","contact":{"id":5},"message":{"id":"m"}}"#,
                "contact.id"
            ),
            (
                RouteRequest.self,
                #"{"conversationId":"c","event":"new","channel":"email","contact":{"id":"k","tags":[null]},"message":{"id":"m"}}"#,
                "contact.tags[0]"
            ),
            // JSONDecoder calls a fraction for an Int corrupt data with no field; kept as it was.
            (RouteResult.self, #"{"conversationId":"c1","routingState":"queued","version":1.5}"#, nil),
            (RouteResult.self, #"{"conversationId":"c1","routingState":"queued"}"#, "version"),
            (ResolveRequest.self, #"{"channel":"email","address":null}"#, "address"),
            (ResolveResult.self, #"{"created":true,"contact":{"id":"k1","name":"Ann"}}"#, "contact.emails"),
            (InboundRequest.self, #"{"channel":"fax","from":"x","body":"b"}"#, "channel"),
            (InboundRequest.self, #"["channel"]"#, nil),
        ]
        for (type, json, field) in refused {
            let bytes = Array(json.utf8)
            #expect(type.init(json: try JSONParser.parse(bytes)) == nil, "\(json)")
            #expect(throws: (any Error).self) { try decodeWithFoundation(type, bytes) }
            do {
                _ = try JSONCoding.decode(type, from: bytes)
                Issue.record("decoded \(json)")
            } catch let problem as Problem {
                #expect(problem.status == 400)
                if let field {
                    #expect(
                        problem.errors?.first?.field == field || problem.detail?.contains(field) == true,
                        "\(json): \(problem)")
                }
            }
        }
    }

    /// Mutated samples (a field dropped, or replaced by another JSON type): whatever the fast path
    /// accepts, `JSONDecoder` accepts and decodes to the same value.
    @Test func neverAcceptsMoreThanJSONDecoder() throws {
        var random = SplitMix64(seed: 20_261_201)
        let replacements: [JSONValue] = [
            .null, .bool(true), .number(3), .number(2.5), .string("email"), .array([]), .object([:]),
        ]
        var fast = 0
        for _ in 0..<2000 {
            let (type, json) = Self.samples[Int(random.next() % UInt64(Self.samples.count))]
            guard case .object(var fields) = try JSONParser.parse(Array(json.utf8)) else { continue }
            let keys = fields.keys.sorted()
            let key = keys[Int(random.next() % UInt64(keys.count))]
            if random.next() % 4 == 0 {
                fields[key] = nil
            } else {
                fields[key] = Self.mutate(fields[key]!, with: replacements, &random)
            }
            var bytes: [UInt8] = []
            JSONValue.object(fields).write(to: &bytes)
            if try expectSameAsDecoder(type, bytes, mustBeFast: false) { fast += 1 }
        }
        #expect(fast > 100, "the mutations should leave many bodies valid")
    }

    /// Replaces the value, or one member of it when it is an object or array.
    private static func mutate(_ value: JSONValue, with replacements: [JSONValue], _ random: inout SplitMix64)
        -> JSONValue
    {
        let replacement = replacements[Int(random.next() % UInt64(replacements.count))]
        switch value {
        case .object(var members) where !members.isEmpty && random.next() % 2 == 0:
            let key = members.keys.sorted()[Int(random.next() % UInt64(members.count))]
            members[key] = mutate(members[key]!, with: replacements, &random)
            return .object(members)
        case .array(var items) where !items.isEmpty && random.next() % 2 == 0:
            let index = Int(random.next() % UInt64(items.count))
            items[index] = mutate(items[index], with: replacements, &random)
            return .array(items)
        default:
            return replacement
        }
    }

    /// Checks the fast path against `JSONDecoder`; true when the fast path built a value.
    @discardableResult
    private func expectSameAsDecoder<T: JSONReadable & Decodable & Equatable>(
        _ type: T.Type, _ bytes: [UInt8], mustBeFast: Bool
    ) throws -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let fast = T(json: try JSONParser.parse(bytes)) else {
            #expect(!mustBeFast, "the fast path refused \(text)")
            return false
        }
        let slow = try decodeWithFoundation(type, bytes)
        #expect(fast == slow, "\(text)")
        if let refusing = type as? any NullRefusing.Type, refusing.nullProblem(in: try JSONParser.parse(bytes)) != nil {
            // Both readers take a null optional for an absent one; the body's rules refuse it before either runs.
            #expect(throws: Problem.self) { try JSONCoding.decode(type, from: bytes) }
        } else {
            #expect(try JSONCoding.decode(type, from: bytes) == slow)
        }
        return true
    }
}

private func decodeWithFoundation<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
    try JSONDecoder().decode(type, from: Data(bytes))
}
