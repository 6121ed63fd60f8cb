import ConciergeModels
import TestSupport
import Testing

@testable import HTTPServer

/// Feeds `RequestParser` raw bytes, whole and one byte at a time, as a connection would.
@Suite struct RequestParserTests {
    // MARK: Well-formed requests

    @Test func simpleGetIsParsedWithLowerCasedHeaderNamesAndTrimmedValues() throws {
        let events = try parseAll(
            bytes("GET /v1/contacts?email=a%40b.c HTTP/1.1\r\nHost:  example.com \r\nAccept: */*\r\n\r\n"))
        #expect(events.count == 1)
        let request = try #require(events.first?.request)
        #expect(request.head.method == "GET")
        #expect(request.head.target == "/v1/contacts?email=a%40b.c")
        #expect(request.head.minorVersion == 1)
        #expect(request.head.headers.map(\.name) == ["host", "accept"])
        #expect(request.head.header("host") == "example.com")
        #expect(request.head.header("accept") == "*/*")
        #expect(request.head.header("content-length") == nil)
        #expect(request.body.isEmpty)
    }

    @Test func leadingEmptyLinesBeforeTheRequestLineAreIgnored() throws {
        let events = try parseAll(bytes("\r\nGET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(events.count == 1)
        #expect(events.first?.request?.head.target == "/healthz")
    }

    @Test func parserConsumesExactlyOneRequestAndReportsMoreNeededForAPartialOne() throws {
        var parser = RequestParser()
        let buffer = bytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nHo")
        var index = 0
        let first = try parser.parse(buffer, index: &index)
        #expect(first?.request?.head.target == "/a")
        #expect(index == "GET /a HTTP/1.1\r\nHost: h\r\n\r\n".utf8.count)
        #expect(try parser.parse(buffer, index: &index) == nil)
        #expect(parser.isReadingHead)
    }

    @Test(arguments: [
        KeepAliveCase(version: "HTTP/1.1", connection: nil, keepAlive: true),
        KeepAliveCase(version: "HTTP/1.1", connection: "close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.1", connection: "Close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.1", connection: "keep-alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.1", connection: "Upgrade, close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.0", connection: nil, keepAlive: false),
        KeepAliveCase(version: "HTTP/1.0", connection: "keep-alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: "Keep-Alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: "close", keepAlive: false),
    ])
    func keepAliveFollowsVersionAndConnectionHeader(_ example: KeepAliveCase) throws {
        let connectionLine = example.connection.map { "Connection: \($0)\r\n" } ?? ""
        let events = try parseAll(bytes("GET / \(example.version)\r\nHost: h\r\n\(connectionLine)\r\n"))
        let head = try #require(events.first?.request?.head)
        #expect(head.minorVersion == (example.version == "HTTP/1.1" ? 1 : 0))
        #expect(head.keepAlive == example.keepAlive)
    }

    @Test func contentLengthBodyDeliveredByteByByteIsAssembled() throws {
        let message = bytes("POST /v1/contacts HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
        let headLength = message.count - 11
        var parser = RequestParser()
        var buffer: [UInt8] = []
        var index = 0
        var events: [RequestParser.Event] = []
        for (offset, byte) in message.enumerated() {
            buffer.append(byte)
            if let event = try parser.parse(buffer, index: &index) { events.append(event) }
            if offset < headLength - 1 {
                #expect(parser.isReadingHead, "still reading the head after \(offset + 1) bytes")
            } else if offset < message.count - 1 {
                #expect(!parser.isReadingHead, "reading the body after \(offset + 1) bytes")
            }
        }
        #expect(events.count == 1)
        let request = try #require(events.first?.request)
        #expect(request.head.method == "POST")
        #expect(request.body == bytes("hello world"))
        #expect(index == message.count)
        #expect(!parser.isReadingHead)
    }

    @Test func pipelinedRequestsInOneBufferAreParsedInOrder() throws {
        let message = bytes(
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                + "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
                + "DELETE /d HTTP/1.1\r\nHost: h\r\n\r\n")
        for events in [try parseAll(message), try parseByteByByte(message)] {
            let requests = events.compactMap(\.request)
            #expect(events.count == 4)
            #expect(requests.map(\.head.method) == ["GET", "POST", "PUT", "DELETE"])
            #expect(requests.map(\.head.target) == ["/a", "/b", "/c", "/d"])
            #expect(requests.map(\.body) == [[], bytes("abc"), bytes("de"), []])
        }
    }

    @Test func chunkedBodyWithExtensionsAndTrailersIsAssembled() throws {
        let chunked =
            "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "6 ; quoted=\"a;b\"\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "b\r\n-lower-hex-\r\n"
            + "0;last\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n"
        let message = bytes(chunked + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        for events in [try parseAll(message), try parseByteByByte(message)] {
            let requests = events.compactMap(\.request)
            #expect(requests.count == 2)
            #expect(requests.first?.body == bytes("hello world0123456789-lower-hex-"))
            // Trailers are consumed but not turned into headers.
            #expect(requests.first?.head.header("x-checksum") == nil)
            #expect(requests.last?.head.target == "/next")
        }
    }

    @Test func everyPrefixOfAValidRequestAsksForMoreBytes() throws {
        let message = bytes(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;x=y\r\nabc\r\n0\r\nTrailer: t\r\n\r\n")
        for length in 0..<message.count {
            var parser = RequestParser()
            var index = 0
            let event = try parser.parse(Array(message[..<length]), index: &index)
            #expect(event == nil, "a \(length)-byte prefix produced an event")
        }
        #expect(try parseAll(message).first?.request?.body == bytes("abc"))
    }

    @Test(arguments: [
        ("GET http://example.com:8080/v1/x?y=1 HTTP/1.1", "/v1/x?y=1"),
        ("GET HTTPS://example.com/ HTTP/1.1", "/"),
        ("GET http://example.com?y=1 HTTP/1.1", "/?y=1"),
        ("GET http://[::1]:8080 HTTP/1.1", "/"),
    ])
    func absoluteFormTargetIsServedAsItsPathAndQuery(requestLine: String, target: String) throws {
        let events = try parseAll(bytes(requestLine + "\r\nHost: example.com\r\n\r\n"))
        #expect(events.first?.request?.head.target == target)
    }

    @Test func hostIsOptionalOnlyInHTTP10AndMayBeEmpty() throws {
        #expect(try parseAll(bytes("GET / HTTP/1.0\r\n\r\n")).count == 1)
        #expect(try parseAll(bytes("GET / HTTP/1.1\r\nHost:\r\n\r\n")).first?.request?.head.header("host") == "")
        #expect(try parseAll(bytes("GET / HTTP/1.1\r\nHOST: [::1]:80\r\n\r\n")).count == 1)
    }

    @Test func trailerSectionIsCappedAsAWhole() throws {
        var limits = ParserLimits()
        limits.maxTrailerBytes = 40
        let body = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
        // Three 12-byte lines and the final CRLF: 38 bytes fit; a fourth line does not.
        let fits = body + String(repeating: "X-T: 12345\r\n", count: 3) + "\r\n"
        #expect(try parseByteByByte(bytes(fits), limits: limits).first?.request?.body == bytes("a"))
        let over = body + String(repeating: "X-T: 12345\r\n", count: 4) + "\r\n"
        #expect(failure { () throws(ParseError) in try parseAll(bytes(over), limits: limits) } == .trailersTooLarge)
        // Refused while the lines are still coming, not only once the section ends.
        let endless = body + String(repeating: "X-T: 12345\r\n", count: 4)
        #expect(
            failure { () throws(ParseError) in try parseByteByByte(bytes(endless), limits: limits) }
                == .trailersTooLarge)
    }

    @Test func expectContinueIsReportedBeforeTheBodyArrives() throws {
        let head = bytes("POST /v1/inbound HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n")
        var parser = RequestParser()
        var buffer = head
        var index = 0
        let first = try parser.parse(buffer, index: &index)
        #expect(first?.isContinue == true)
        #expect(try parser.parse(buffer, index: &index) == nil)
        buffer += bytes("ping")
        let second = try parser.parse(buffer, index: &index)
        #expect(second?.request?.body == bytes("ping"))
    }

    @Test func expectContinueWithChunkedBodyIsReportedToo() throws {
        var parser = RequestParser()
        var buffer = bytes("POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        var index = 0
        #expect(try parser.parse(buffer, index: &index)?.isContinue == true)
        buffer += bytes("4\r\nping\r\n0\r\n\r\n")
        #expect(try parser.parse(buffer, index: &index)?.request?.body == bytes("ping"))
    }

    @Test func expectContinueIsNotReportedWhenTheBodyAlreadyArrived() throws {
        let events = try parseAll(
            bytes("POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"))
        #expect(events.count == 1)
        #expect(events.first?.request?.body == bytes("ok"))
    }

    @Test func equalDuplicateContentLengthsAreAccepted() throws {
        for header in [
            "Content-Length: 3\r\nContent-Length: 3\r\n", "Content-Length: 3, 3\r\n", "Content-Length:3 ,3\r\n",
        ] {
            let events = try parseAll(bytes("POST /x HTTP/1.1\r\nHost: h\r\n\(header)\r\nabc"))
            #expect(events.first?.request?.body == bytes("abc"), "\(header)")
        }
    }

    @Test func limitsAreInclusive() throws {
        let limits = ParserLimits()
        // Exactly 100 headers, Host one of them.
        let hundred = (1..<limits.maxHeaderCount).map { "X-H\($0): v\r\n" }.joined()
        #expect(
            try parseAll(bytes("GET / HTTP/1.1\r\nHost: h\r\n\(hundred)\r\n")).first?.request?.head.headers.count == 100
        )
        // A target whose request line fills the 16 KiB head alone (SPEC §2 bounds line and headers together).
        let target = "/" + String(repeating: "a", count: limits.maxHeadBytes - "GET  HTTP/1.1".utf8.count - 1)
        #expect("GET \(target) HTTP/1.1".utf8.count == limits.maxHeadBytes)
        #expect(try parseAll(bytes("GET \(target) HTTP/1.0\r\n\r\n")).first?.request?.head.target == target)
        // A head of exactly 16 KiB, not counting the final empty line.
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: "
        let head = prefix + String(repeating: "p", count: limits.maxHeadBytes - prefix.utf8.count)
        #expect(head.utf8.count == limits.maxHeadBytes)
        #expect(try parseByteByByte(bytes(head + "\r\n\r\n")).count == 1)
        // A body of exactly the limit, announced or chunked.
        let body = String(repeating: "b", count: 10)
        let announced = try parseAll(
            bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n\(body)"), bodyLimit: 10)
        #expect(announced.first?.request?.body.count == 10)
        let chunked = try parseAll(
            bytes(
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbbbbb\r\n5\r\nbbbbb\r\n0\r\n\r\n"),
            bodyLimit: 10)
        #expect(chunked.first?.request?.body.count == 10)
    }

    // MARK: Bad input (SPEC §2)

    @Test(arguments: BadInput.all)
    func badInputIsRefusedWithItsStatus(_ input: BadInput) {
        let whole = failure { () throws(ParseError) in try parseAll(input.bytes, bodyLimit: input.bodyLimit) }
        let trickled = failure { () throws(ParseError) in try parseByteByByte(input.bytes, bodyLimit: input.bodyLimit) }
        #expect(whole?.kind == input.kind, "whole: \(String(describing: whole))")
        #expect(whole?.status == input.status)
        #expect(whole?.problem.status == input.status)
        #expect(trickled?.kind == input.kind, "byte by byte: \(String(describing: trickled))")
    }

    @Test func oversizedHeadWithoutTerminatorIsRefusedBeforeItEnds() {
        let limits = ParserLimits()
        let endlessHeader = bytes("GET / HTTP/1.1\r\nX-Endless: " + String(repeating: "a", count: limits.maxHeadBytes))
        let endlessTarget = bytes("GET /" + String(repeating: "a", count: limits.maxHeadBytes + 8))
        #expect(failure { () throws(ParseError) in try parseAll(endlessHeader) } == .headersTooLarge)
        #expect(failure { () throws(ParseError) in try parseAll(endlessTarget) } == .uriTooLong)
    }

    @Test func randomlyMutatedRequestsNeverCrashTheParser() {
        let seeds = [
            "GET /v1/contacts?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "POST /v1/inbound HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
            "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
        ].map(bytes)
        var limits = ParserLimits()
        limits.maxHeadBytes = 96
        limits.maxURLBytes = 24
        limits.maxHeaderCount = 4
        limits.maxBodyBytes = 16
        limits.maxChunkLineBytes = 8
        var random = SplitMix64(seed: 0xC0FFEE)
        var outcomes: Set<Int> = []
        for _ in 0..<4000 {
            var input = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + random.next() % 4) {
                let position = Int(random.next() % UInt64(input.count + 1))
                switch random.next() % 4 {
                case 0 where position < input.count: input[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 2 where position < input.count: input.remove(at: position)
                default: input += input[position...]
                }
            }
            do throws(ParseError) {
                _ = try parseAll(input, limits: limits)
                _ = try parseByteByByte(input, limits: limits)
                outcomes.insert(0)
            } catch {
                #expect([400, 413, 414, 431].contains(error.status))
                outcomes.insert(error.status)
            }
        }
        // The mutations reach both accepted and refused inputs.
        #expect(outcomes.contains(0))
        #expect(outcomes.contains(400))
    }
}

// MARK: - Cases

struct KeepAliveCase: Sendable, CustomTestStringConvertible {
    let version: String
    let connection: String?
    let keepAlive: Bool
    var testDescription: String { "\(version) Connection: \(connection ?? "(none)")" }
}

/// One bad request of SPEC §2 and how the parser must refuse it.
struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let kind: ParseErrorKind
    let status: Int
    let bodyLimit: Int

    var testDescription: String { name }

    // The SPEC §2 status of each kind of refusal, stated once.
    static func malformed(_ name: String, _ text: String) -> BadInput { BadInput(name, text, .malformed, 400) }
    static func malformed(_ name: String, bytes: [UInt8]) -> BadInput { BadInput(name, bytes, .malformed, 400) }
    static func ambiguous(_ name: String, _ text: String) -> BadInput { BadInput(name, text, .ambiguousFraming, 400) }
    static func unsupported(_ name: String, _ text: String) -> BadInput {
        BadInput(name, text, .unsupportedTransferEncoding, 400)
    }
    static func uriTooLong(_ name: String, _ text: String) -> BadInput { BadInput(name, text, .uriTooLong, 414) }
    static func headersTooLarge(_ name: String, _ text: String) -> BadInput {
        BadInput(name, text, .headersTooLarge, 431)
    }
    static func tooManyHeaders(_ name: String, _ text: String) -> BadInput {
        BadInput(name, text, .tooManyHeaders, 431)
    }
    static func trailersTooLarge(_ name: String, _ text: String) -> BadInput {
        BadInput(name, text, .trailersTooLarge, 431)
    }
    static func bodyTooLarge(_ name: String, _ text: String, bodyLimit: Int = .max) -> BadInput {
        BadInput(name, text, .bodyTooLarge, 413, bodyLimit: bodyLimit)
    }

    private init(_ name: String, _ text: String, _ kind: ParseErrorKind, _ status: Int, bodyLimit: Int = .max) {
        self.init(name, Array(text.utf8), kind, status, bodyLimit: bodyLimit)
    }

    private init(_ name: String, _ bytes: [UInt8], _ kind: ParseErrorKind, _ status: Int, bodyLimit: Int = .max) {
        self.name = name
        self.bytes = bytes
        self.kind = kind
        self.status = status
        self.bodyLimit = bodyLimit
    }

    static let all: [BadInput] = {
        let limits = ParserLimits()
        func text(_ count: Int, _ character: Character = "a") -> String { String(repeating: character, count: count) }
        let get = "GET / HTTP/1.1\r\nHost: h\r\n"
        let post = "POST /x HTTP/1.1\r\nHost: h\r\n"
        let te = "Transfer-Encoding: chunked\r\n"
        let cl = "Content-Length: 5\r\n"
        let chunked = post + te + "\r\n"
        let manyTrailers = String(repeating: "X-T: 0123456789\r\n", count: limits.maxTrailerBytes / 17 + 1)
        let tooManyHeaders = (0...limits.maxHeaderCount).map { "X-H\($0): v\r\n" }.joined()
        let largeHeaders = (0..<50).map { "X-M\($0): \(text(400))\r\n" }.joined()
        let padded = get + "X-Pad: "
        let headOneByteOver = padded + text(limits.maxHeadBytes + 1 - padded.utf8.count)
        return [
            .headersTooLarge("head over 16 KiB in one header", get + "X-Big: \(text(17_000))\r\n\r\n"),
            .headersTooLarge("head one byte over 16 KiB", headOneByteOver + "\r\n\r\n"),
            .headersTooLarge("head over 16 KiB in 50 headers", get + largeHeaders + "\r\n"),
            .trailersTooLarge("trailer line over 16 KiB", chunked + "0\r\nX-T: \(text(17_000))\r\n\r\n"),
            .trailersTooLarge("trailer lines over 16 KiB together", chunked + "0\r\n" + manyTrailers + "\r\n"),
            .tooManyHeaders("101 headers", get + tooManyHeaders + "\r\n"),
            .uriTooLong("target one byte over 16 KiB", "GET /\(text(limits.maxURLBytes)) HTTP/1.1\r\n\r\n"),
            .uriTooLong("request line one byte over 16 KiB", "GET /\(text(limits.maxHeadBytes - 13)) HTTP/1.1\r\n\r\n"),
            .uriTooLong("target over 16 KiB", "GET /\(text(20_000)) HTTP/1.1\r\n\r\n"),
            .bodyTooLarge("Content-Length over 1 MiB", post + "Content-Length: \(limits.maxBodyBytes + 1)\r\n\r\n"),
            .bodyTooLarge("Content-Length over the route's limit", post + "Content-Length: 11\r\n\r\n", bodyLimit: 10),
            .bodyTooLarge("chunk over 1 MiB", chunked + String(limits.maxBodyBytes + 1, radix: 16) + "\r\n"),
            .bodyTooLarge("chunks over the route's limit", chunked + "6\r\nhello \r\n5\r\nworld\r\n", bodyLimit: 10),
            .bodyTooLarge("chunk size of 18 hex digits", chunked + "ffffffffffffffffff\r\n"),
            .ambiguous("Content-Length and Transfer-Encoding", post + cl + te + "\r\n"),
            .ambiguous("Transfer-Encoding and Content-Length", post + te + cl + "\r\n"),
            .ambiguous("two different Content-Lengths", post + cl + "Content-Length: 6\r\n\r\nhello!"),
            .ambiguous("Content-Length list that disagrees", post + "Content-Length: 5, 6\r\n\r\nhello!"),
            .malformed("non-numeric Content-Length", post + "Content-Length: abc\r\n\r\n"),
            .malformed("negative Content-Length", post + "Content-Length: -5\r\n\r\n"),
            .malformed("signed Content-Length", post + "Content-Length: +5\r\n\r\nhello"),
            .malformed("hexadecimal Content-Length", post + "Content-Length: 0x5\r\n\r\nhello"),
            .malformed("empty Content-Length", post + "Content-Length: \r\n\r\n"),
            .malformed("Content-Length with an inner space", post + "Content-Length: 1 2\r\n\r\n"),
            .malformed("Content-Length of 20 digits", post + "Content-Length: 99999999999999999999\r\n\r\n"),
            .unsupported("Transfer-Encoding gzip", post + "Transfer-Encoding: gzip\r\n\r\n"),
            .unsupported("Transfer-Encoding gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n"),
            .unsupported("Transfer-Encoding chunked twice", post + te + te + "\r\n"),
            .unsupported("Transfer-Encoding identity", post + "Transfer-Encoding: identity\r\n\r\n"),
            .malformed("chunked on HTTP/1.0", "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            .malformed("space before the colon", get + "Host : x\r\n\r\n"),
            .malformed("tab before the colon", get + "Content-Length\t: 0\r\n\r\n"),
            .malformed("obs-fold continuation line", get + "X-A: b\r\n  continued\r\n\r\n"),
            .malformed("obs-fold line with a colon", get + "X-A: b\r\n\tX-B: c\r\n\r\n"),
            .malformed("header line without a colon", get + "JustAName\r\n\r\n"),
            .malformed("empty header name", get + ": value\r\n\r\n"),
            .malformed("non-hex chunk size", chunked + "zz\r\n"),
            .malformed("negative chunk size", chunked + "-5\r\nhello\r\n0\r\n\r\n"),
            .malformed("empty chunk size", chunked + "\r\nhello\r\n"),
            .malformed("chunk extension without a size", chunked + ";ext=1\r\nhello\r\n"),
            .malformed("chunk data longer than its size", chunked + "3\r\nhello\r\n0\r\n\r\n"),
            .malformed("chunk-size line over 1 KiB", chunked + "5;\(text(2_000, "e"))\r\n"),
            .malformed("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n"),
            .malformed("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n"),
            .malformed("lower-case version", "GET / http/1.1\r\n\r\n"),
            .malformed("missing target", "GET HTTP/1.1\r\n\r\n"),
            .malformed("empty target", "GET  HTTP/1.1\r\n\r\n"),
            .malformed("missing version", "GET /\r\n\r\n"),
            .malformed("relative target", "GET v1/contacts HTTP/1.1\r\n\r\n"),
            .malformed("space inside the target", "GET /a b HTTP/1.1\r\n\r\n"),
            .malformed("invalid method character", "GE(T / HTTP/1.1\r\n\r\n"),
            .malformed("control character in a header value", get + "X-A: a\u{01}b\r\n\r\n"),
            .malformed("DEL in a header value", get + "X-A: a\u{7F}b\r\n\r\n"),
            .malformed("bare CR in a header value", get + "X-A: a\rb\r\n\r\n"),
            .malformed("bare LF in a header value", get + "X-A: a\nX-B: b\r\n\r\n"),
            .malformed("NUL in a header value", get + "X-A: a\u{0}b\r\n\r\n"),
            .malformed("NUL in a header name", get + "X\u{0}A: b\r\n\r\n"),
            .malformed("NUL in the target", "GET /a\u{0}b HTTP/1.1\r\n\r\n"),
            .malformed("NUL in the method", "G\u{0}T / HTTP/1.1\r\n\r\n"),
            .malformed("garbage request line", "hello there\r\n\r\n"),
            .malformed("request line without spaces", "GARBAGE\r\n\r\n"),
            .malformed(
                "binary garbage", bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 13, 10, 13, 10]),
            .malformed("empty head", "\r\n\r\n\r\n"),
            .malformed("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
            .malformed("two Host headers", get + "Host: h\r\n\r\n"),
            .malformed("two Host headers in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            .malformed("Host with user info", "GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"),
            .malformed("Host with a path", "GET / HTTP/1.1\r\nHost: h/x\r\n\r\n"),
            .malformed("request line ended by a bare LF", "GET / HTTP/1.1\nHost: h\r\n\r\n"),
            .malformed("head of bare LFs", "GET / HTTP/1.1\nHost: h\n\n"),
            .malformed("header line ended by a bare LF", get + "X-A: b\n\r\n"),
            .malformed("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            .malformed("absolute form of another scheme", "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n"),
            .malformed("absolute form without a host", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"),
            .malformed("absolute form with user info", "GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n"),
            .malformed("absolute form without //", "GET http:h/x HTTP/1.1\r\nHost: h\r\n\r\n"),
        ]
    }()
}

/// `ParseError` without its message, for comparing outcomes.
enum ParseErrorKind: Sendable {
    case malformed, uriTooLong, headersTooLarge, tooManyHeaders, bodyTooLarge, ambiguousFraming
    case unsupportedTransferEncoding, trailersTooLarge
}

extension ParseError {
    var kind: ParseErrorKind {
        switch self {
        case .malformed: .malformed
        case .uriTooLong: .uriTooLong
        case .headersTooLarge: .headersTooLarge
        case .tooManyHeaders: .tooManyHeaders
        case .bodyTooLarge: .bodyTooLarge
        case .ambiguousFraming: .ambiguousFraming
        case .unsupportedTransferEncoding: .unsupportedTransferEncoding
        case .trailersTooLarge: .trailersTooLarge
        }
    }
}

extension RequestParser.Event {
    var request: (head: RequestHead, body: [UInt8])? {
        if case .request(let head, let body) = self { (head, body) } else { nil }
    }

    var isContinue: Bool {
        if case .expectsContinue = self { true } else { false }
    }
}

// MARK: - Driving the parser

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// All the events a fresh parser produces from `input` arriving in one read.
private func parseAll(
    _ input: [UInt8], limits: ParserLimits = ParserLimits(), bodyLimit: Int = .max
) throws(ParseError) -> [RequestParser.Event] {
    var parser = RequestParser(limits: limits)
    var index = 0
    var events: [RequestParser.Event] = []
    while let event = try parser.parse(input, index: &index, body: { _ in .collect(maxBytes: bodyLimit) }) {
        events.append(event)
        // Every event consumes bytes or waits for them: a bound catches a parser that spins.
        guard events.count <= input.count + 1 else { break }
    }
    return events
}

/// All the events a fresh parser produces from `input` arriving one byte per read.
private func parseByteByByte(
    _ input: [UInt8], limits: ParserLimits = ParserLimits(), bodyLimit: Int = .max
) throws(ParseError) -> [RequestParser.Event] {
    var parser = RequestParser(limits: limits)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(input.count)
    var index = 0
    var events: [RequestParser.Event] = []
    for byte in input {
        buffer.append(byte)
        while let event = try parser.parse(buffer, index: &index, body: { _ in .collect(maxBytes: bodyLimit) }) {
            events.append(event)
            guard events.count <= input.count + 1 else { break }
        }
    }
    return events
}

/// The error `body` throws, or `nil` when it succeeds.
private func failure<T>(_ body: () throws(ParseError) -> T) -> ParseError? {
    do throws(ParseError) {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
