import Testing

@testable import ConciergeCLI

/// `concierge events` in-process: reading pages without re-encoding, merging feeds in time order, and
/// its options.
@Suite struct EventsCommandTests {
    private static func event(_ service: String, _ seq: Int64, at time: String, type: String = "x.y") -> FeedEvent {
        FeedEvent(
            service: service, seq: seq, occurredAt: "2026-11-22T14:05:\(time)Z", type: type,
            json: #"{"seq":\#(seq),"service":"\#(service)"}"#)
    }

    @Test func aPagesEventsKeepTheirTextByteForByte() throws {
        // Keys in an order a decoder would not keep, strings holding brackets, braces, quotes and escapes.
        let first =
            #"{"data":{"note":"a ] b } c \"[{\" \\","list":[1,[2,{"k":"}"}]]},"id":"e1","seq":7,"#
            + #""type":"contact.created","occurredAt":"2026-11-22T14:05:09.123Z","service":"contacts"}"#
        let second =
            #"{"id":"e2","seq":8,"type":"contact.updated","occurredAt":"2026-11-22T14:05:09.124Z","#
            + #""service":"contacts","data":{"items":[{"id":"not an event"}]}}"#
        let body = #"{"nextCursor":"8", "items": [ "# + first + " ,\n" + second + "]}"
        let page = try EventFeed.page(from: Array(body.utf8))
        #expect(page.events.map(\.json) == [first, second])
        #expect(page.events.map(\.seq) == [7, 8])
        #expect(page.events.map(\.type) == ["contact.created", "contact.updated"])
        #expect(page.next == 8)

        let last = try EventFeed.page(from: Array(#"{"items":[],"nextCursor":null}"#.utf8))
        #expect(last == EventFeed.Page(events: [], next: nil))
    }

    @Test(arguments: [#"{"items":[1]}"#, #"{"things":[]}"#, "[]", #"{"items":[{"id":"x"}],"nextCursor":null}"#])
    func whatIsNotAPageOfEventsIsRefused(_ body: String) {
        #expect(throws: (any Error).self) { try EventFeed.page(from: Array(body.utf8)) }
    }

    @Test func rawObjectsAreFoundOnlyInTheNamedTopLevelArray() {
        let text = #"{"other":[{"a":1}],"nested":{"items":[{"b":2}]},"items":[{"c":"]"},{"d":[{}]}]}"#
        let found = RawJSON.objects(inArray: "items", of: Array(text.utf8))
        #expect(found?.map { String(decoding: $0, as: UTF8.self) } == [#"{"c":"]"}"#, #"{"d":[{}]}"#])
        #expect(RawJSON.objects(inArray: "missing", of: Array(text.utf8)) == nil)
    }

    /// Feeds are merged by time, then service name, then seq, a page at a time; each feed's pages are
    /// asked for after the last event it gave, from where it starts.
    @Test func feedsAreMergedInTimeOrderAPageAtATime() async throws {
        let pages: [[EventFeed.Page]] = [
            [
                EventFeed.Page(
                    events: [Self.event("routing", 4, at: "01.000"), Self.event("routing", 5, at: "03.000")], next: 5),
                EventFeed.Page(events: [Self.event("routing", 6, at: "03.000")], next: nil),
            ],
            [
                EventFeed.Page(
                    events: [
                        Self.event("contacts", 10, at: "02.000"), Self.event("contacts", 11, at: "03.000"),
                        Self.event("contacts", 12, at: "04.000"),
                    ], next: nil)
            ],
            [EventFeed.Page(events: [], next: nil)],
        ]
        var asked: [(Int, Int64?)] = []
        var printed: [FeedEvent] = []
        let last = try await EventMerge(starts: [3, nil, 40]).run(
            fetch: { feed, after in
                let index = asked.filter { $0.0 == feed }.count
                asked.append((feed, after))
                return pages[feed][index]
            },
            emit: { event in
                printed.append(event)
                return true
            })
        #expect(
            printed.map { "\($0.service):\($0.seq)" } == [
                "routing:4", "contacts:10", "contacts:11", "routing:5", "routing:6", "contacts:12",
            ])
        #expect(last == [6, 12, nil])
        #expect(asked.filter { $0.0 == 0 }.map(\.1) == [3, 5])
        #expect(asked.filter { $0.0 == 1 }.map(\.1) == [nil])
        #expect(asked.filter { $0.0 == 2 }.map(\.1) == [40])
    }

    @Test func mergingStopsWhenTheOutputCloses() async throws {
        let page = EventFeed.Page(
            events: (1...5).map { Self.event("contacts", $0, at: "0\($0).000") }, next: 5)
        var fetches = 0
        var printed = 0
        let last = try await EventMerge(starts: [nil]).run(
            fetch: { _, _ in
                fetches += 1
                return page
            },
            emit: { _ in
                printed += 1
                return printed < 2
            })
        #expect(printed == 2)
        #expect(fetches == 1)
        #expect(last == [1], "the event the closed output refused is not counted as printed")
    }

    @Test func optionsNameServicesTypesPositionsAndTheFollowFlag() throws {
        let all = try EventsCommand(parsing: [])
        #expect(all.services == ["contacts", "conversations", "routing", "crm-lookup"])
        #expect(all.types == nil && all.after.isEmpty && !all.follow)

        let some = try EventsCommand(parsing: [
            "--follow", "--types", "conversation.*,agent.availability_changed", "--after=contacts=3,routing=0",
        ])
        #expect(some.follow)
        #expect(some.types == "conversation.*,agent.availability_changed")
        #expect(some.after == ["contacts": 3, "routing": 0])

        let one = try EventsCommand(parsing: ["--service", "crm-lookup", "--after", "12"])
        #expect(one.services == ["crm-lookup"])
        #expect(one.after == ["crm-lookup": 12])
    }

    @Test(arguments: [
        ["--service", "billing"], ["--types", "Bad Type"], ["--types", "conversation*"], ["--follow", "--follow"],
        ["--follow=yes"], ["--after", "5"], ["--after", "-1"], ["--after", "routing=x"], ["--after", "billing=1"],
        ["--after", "routing=1,routing=2"], ["--service", "routing", "--after", "contacts=3"], ["now"],
        ["--since", "1"],
    ])
    func badOptionsAreUsageErrors(_ words: [String]) {
        #expect(throws: CLIError.self) { try EventsCommand(parsing: words[...]) }
        do {
            _ = try EventsCommand(parsing: words[...])
        } catch {
            #expect(error.exitCode == 2 && error.showsUsage)
        }
    }

    @Test func theDemoSumsUpItsDayPerServiceAndType() {
        let lines = DemoEvents.summary([
            Self.event("contacts", 1, at: "01.000", type: "contact.created"),
            Self.event("conversations", 1, at: "01.500", type: "conversation.created"),
            Self.event("conversations", 2, at: "01.600", type: "message.created"),
            Self.event("contacts", 2, at: "02.000", type: "contact.created"),
            Self.event("conversations", 3, at: "02.100", type: "message.created"),
        ])
        #expect(
            lines == [
                "What the day told the outside: 5 events in the services' feeds",
                "   contacts       contact.created ×2",
                "   conversations  conversation.created ×1, message.created ×2",
                "   `concierge events` prints them as JSON lines; `--follow` streams them as they happen.",
            ])
    }
}
