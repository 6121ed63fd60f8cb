import Foundation
import Testing

@testable import ConciergeLogging

/// One JSON object per line with `ts`, `level`, `service`, `msg`, `requestId` (SPEC §2).
@Suite struct LoggerTests {
    let sink = MemorySink()

    @Test func lineIsOneJSONObjectWithTheStandardFields() throws {
        let logger = Logger(service: "contacts", level: .info, sink: sink).with("requestId", "req-1")
        logger.info("contact created", ["contactId": "c1"])
        #expect(sink.lines.count == 1)
        let line = try #require(sink.lines.first)
        #expect(!line.contains("\n"))
        let object = try decode(line)
        #expect(Set(object.keys) == ["ts", "level", "service", "msg", "requestId", "contactId"])
        #expect(object["level"] as? String == "info")
        #expect(object["service"] as? String == "contacts")
        #expect(object["msg"] as? String == "contact created")
        #expect(object["requestId"] as? String == "req-1")
        #expect(object["contactId"] as? String == "c1")
        let ts = try #require(object["ts"] as? String)
        #expect(ts.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(ts)")
        #expect(line.hasPrefix("{\"ts\":"))
    }

    @Test func everyLineCarriesTheLoggerMetadata() throws {
        let base = Logger(service: "routing", level: .debug, sink: sink)
        let request = base.with("requestId", "r-7").with("method", "GET")
        request.debug("step")
        request.warning("slow")
        base.error("unrelated")
        let objects = try sink.lines.map(decode)
        #expect(objects.count == 3)
        #expect(objects.map { $0["level"] as? String } == ["debug", "warning", "error"])
        #expect(
            objects.prefix(2).allSatisfy { $0["requestId"] as? String == "r-7" && $0["method"] as? String == "GET" })
        // `with` made a copy: the original logger has no request id, and says so (every line has the field).
        #expect(objects[2]["requestId"] is NSNull)
        #expect(base.metadata.isEmpty)
    }

    @Test(arguments: LogLevel.allCases)
    func linesBelowTheLevelAreDropped(configured: LogLevel) throws {
        let logger = Logger(service: "s", level: configured, sink: sink)
        for level in LogLevel.allCases { logger.log(level, "at \(level.name)") }
        let written = try sink.lines.map { try decode($0)["level"] as? String }
        #expect(written == LogLevel.allCases.filter { $0 >= configured }.map(\.name))
    }

    @Test(arguments: [
        "say \"hi\"", "two\nlines", "back\\slash", "tab\there", "cr\rlf", "bell\u{7}nul\u{0}", "\u{1F}", "unicode ✓ 👩‍💻",
        "</script>", "",
    ])
    func messagesAndValuesAreEscaped(text: String) throws {
        Logger(service: "svc \"quoted\"", sink: sink).with("requestId", text).info(text, [text: text])
        let line = try #require(sink.lines.first)
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line.unicodeScalars.allSatisfy { $0.value >= 0x20 })
        let object = try decode(line)
        #expect(object["msg"] as? String == text)
        #expect(object["requestId"] as? String == text)
        #expect(object["service"] as? String == "svc \"quoted\"")
        if !["ts", "level", "service", "msg", "requestId"].contains(text) {
            #expect(object[text] as? String == text)
        }
    }

    @Test func callFieldsOverrideMetadataWithTheSameKey() throws {
        let logger = Logger(service: "s", sink: sink).with("route", "/old")
        logger.info("request", ["route": "/v1/contacts"])
        let line = try #require(sink.lines.first)
        #expect(line.components(separatedBy: "\"route\"").count == 2, "route appears once: \(line)")
        #expect(try decode(line)["route"] as? String == "/v1/contacts")
    }

    @Test func statusAndDurationStayNumbersOnlyWhenNumeric() throws {
        let logger = Logger(service: "s", sink: sink)
        logger.info("request", ["status": "201", "ms": "3.25", "method": "POST"])
        logger.info("odd", ["status": "n/a", "ms": ""])
        let objects = try sink.lines.map(decode)
        #expect(objects[0]["status"] as? Int == 201)
        #expect(objects[0]["ms"] as? Double == 3.25)
        #expect(objects[0]["status"] is String == false)
        #expect(objects[0]["method"] as? String == "POST")
        #expect(objects[1]["status"] as? String == "n/a")
        #expect(objects[1]["ms"] as? String == "")
    }

    @Test func levelNamesParse() {
        #expect(LogLevel(name: "DEBUG") == .debug)
        #expect(LogLevel(name: "info") == .info)
        #expect(LogLevel(name: "warn") == .warning)
        #expect(LogLevel(name: "Warning") == .warning)
        #expect(LogLevel(name: "error") == .error)
        #expect(LogLevel(name: "verbose") == nil)
        #expect(LogLevel.allCases.allSatisfy { LogLevel(name: $0.name) == $0 })
        #expect(LogLevel.debug < .info && LogLevel.info < .warning && LogLevel.warning < .error)
    }

    @Test func concurrentWritersEachProduceWholeLines() async throws {
        let logger = Logger(service: "s", sink: sink)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<50 { logger.info("line", ["task": "\(task)", "i": "\(i)"]) }
                }
            }
        }
        let objects = try sink.lines.map(decode)
        #expect(objects.count == 400)
        let pairs = Set(
            objects.compactMap { object in
                (object["task"] as? String).flatMap { task in (object["i"] as? String).map { "\(task)/\($0)" } }
            })
        #expect(pairs.count == 400)
    }
}

private func decode(_ line: String) throws -> [String: Any] {
    try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
}
