import BusinessHours
import Foundation
import Testing

/// Open or closed, the next change, open time between instants and the instant a given open time has
/// passed: on ordinary days, across daylight-saving changes in Europe/Copenhagen and America/New_York
/// (a local time that does not exist, an hour that happens twice), on holidays, across 24:00, and for
/// calendars that never open or never close.
@Suite struct BusinessCalendarMathTests {
    /// An instant written in UTC: `"2026-03-29T01:00:00Z"`.
    private func utc(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) else { fatalError("bad test instant \(text)") }
        return date
    }

    private func calendar(
        _ zone: String, _ weekly: [String: [[String]]], holidays: [String] = []
    ) throws -> BusinessCalendar {
        try BusinessCalendar(
            id: "c",
            definition: CalendarDefinition(
                name: "Test", timeZone: zone, weekly: weekly, holidays: holidays.map { .init(date: $0) }))
    }

    private static let officeWeek: [String: [[String]]] = [
        "mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]],
    ]

    // MARK: - Ordinary days and the weekend

    @Test func officeHoursInCopenhagenFollowTheLocalClockOnBothSidesOfTheSpringChange() throws {
        let office = try calendar("Europe/Copenhagen", Self.officeWeek)
        // Friday 27 March 2026, CET (UTC+1).
        #expect(!office.isOpen(at: utc("2026-03-27T07:59:59Z")))
        #expect(office.isOpen(at: utc("2026-03-27T08:00:00Z")))
        #expect(office.isOpen(at: utc("2026-03-27T15:59:59Z")))
        #expect(!office.isOpen(at: utc("2026-03-27T16:00:00Z")))
        // Monday 30 March 2026, CEST (UTC+2): 09:00 local is 07:00 UTC.
        #expect(!office.isOpen(at: utc("2026-03-30T06:59:00Z")))
        #expect(office.isOpen(at: utc("2026-03-30T07:00:00Z")))
        #expect(office.nextChange(after: utc("2026-03-27T12:00:00Z")) == utc("2026-03-27T16:00:00Z"))
        #expect(office.nextChange(after: utc("2026-03-27T16:00:00Z")) == utc("2026-03-30T07:00:00Z"))
        // The weekend counts nothing: Friday 12:00 to Monday 12:00 is 5 h + 3 h.
        #expect(office.openSeconds(from: utc("2026-03-27T11:00:00Z"), to: utc("2026-03-30T10:00:00Z")) == 8 * 3600)
    }

    @Test func anSLADueTimeSkipsTheWeekendAndTheChangeOfClocks() throws {
        let office = try calendar("Europe/Copenhagen", Self.officeWeek)
        let fridayFour = utc("2026-03-27T15:00:00Z")  // 16:00 CET
        #expect(office.instant(afterOpenSeconds: 3600, from: fridayFour) == utc("2026-03-27T16:00:00Z"))
        #expect(office.instant(afterOpenSeconds: 2 * 3600, from: fridayFour) == utc("2026-03-30T08:00:00Z"))
        #expect(office.instant(afterOpenSeconds: 0, from: fridayFour) == fridayFour)
        // From a closed moment the clock starts at the opening.
        let saturday = utc("2026-03-28T12:00:00Z")
        #expect(office.instant(afterOpenSeconds: 30 * 60, from: saturday) == utc("2026-03-30T07:30:00Z"))
        // A week of office hours is 40 h: from Monday 09:00 to the next Monday 09:00.
        #expect(
            office.instant(afterOpenSeconds: 40 * 3600, from: utc("2026-03-30T07:00:00Z"))
                == utc("2026-04-03T15:00:00Z"))
    }

    // MARK: - Copenhagen's daylight-saving days

    @Test func aRangeStartingInTheSkippedHourOpensWhenTheClocksJump() throws {
        // Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC; 02:30 does not exist.
        let sunday = try calendar("Europe/Copenhagen", ["sun": [["02:30", "04:00"]]])
        #expect(!sunday.isOpen(at: utc("2026-03-29T00:59:59Z")))
        #expect(sunday.isOpen(at: utc("2026-03-29T01:00:00Z")))
        #expect(sunday.isOpen(at: utc("2026-03-29T01:59:59Z")))
        #expect(!sunday.isOpen(at: utc("2026-03-29T02:00:00Z")))
        #expect(sunday.nextChange(after: utc("2026-03-28T23:00:00Z")) == utc("2026-03-29T01:00:00Z"))
        #expect(sunday.nextChange(after: utc("2026-03-29T01:00:00Z")) == utc("2026-03-29T02:00:00Z"))
        #expect(sunday.openSeconds(from: utc("2026-03-28T12:00:00Z"), to: utc("2026-03-30T00:00:00Z")) == 3600)
        // An ordinary Sunday has the whole 90 minutes.
        #expect(sunday.openSeconds(from: utc("2026-03-21T12:00:00Z"), to: utc("2026-03-23T00:00:00Z")) == 5400)
        #expect(
            sunday.instant(afterOpenSeconds: 1800, from: utc("2026-03-28T12:00:00Z")) == utc("2026-03-29T01:30:00Z"))
    }

    @Test func aRangeOverTheRepeatedHourCountsItTwice() throws {
        // Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-03:00 happens twice.
        let repeated = try calendar("Europe/Copenhagen", ["sun": [["02:00", "02:30"]]])
        #expect(repeated.isOpen(at: utc("2026-10-25T00:10:00Z")))  // 02:10 CEST
        #expect(!repeated.isOpen(at: utc("2026-10-25T00:40:00Z")))  // 02:40 CEST
        #expect(repeated.isOpen(at: utc("2026-10-25T01:10:00Z")))  // 02:10 CET
        #expect(repeated.nextChange(after: utc("2026-10-25T00:10:00Z")) == utc("2026-10-25T00:30:00Z"))
        #expect(repeated.nextChange(after: utc("2026-10-25T00:40:00Z")) == utc("2026-10-25T01:00:00Z"))
        #expect(repeated.openSeconds(from: utc("2026-10-24T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 3600)
        #expect(
            repeated.instant(afterOpenSeconds: 2700, from: utc("2026-10-24T00:00:00Z")) == utc("2026-10-25T01:15:00Z"))

        let night = try calendar("Europe/Copenhagen", ["sun": [["01:00", "05:00"]]])
        #expect(night.openSeconds(from: utc("2026-10-24T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 5 * 3600)
        #expect(night.nextChange(after: utc("2026-10-25T00:30:00Z")) == utc("2026-10-25T04:00:00Z"))
    }

    @Test func aWholeDayIs23Or25Hours() throws {
        let allSunday = try calendar("Europe/Copenhagen", ["sun": [["00:00", "24:00"]]])
        #expect(allSunday.openSeconds(from: utc("2026-03-28T00:00:00Z"), to: utc("2026-03-30T00:00:00Z")) == 23 * 3600)
        #expect(allSunday.openSeconds(from: utc("2026-10-24T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 25 * 3600)
        #expect(allSunday.nextChange(after: utc("2026-03-28T12:00:00Z")) == utc("2026-03-28T23:00:00Z"))
        #expect(allSunday.nextChange(after: utc("2026-03-29T12:00:00Z")) == utc("2026-03-29T22:00:00Z"))
    }

    // MARK: - New York's daylight-saving days

    @Test func newYorkSkipsTwoThirtyInMarch() throws {
        // Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
        let gap = try calendar("America/New_York", ["sun": [["02:30", "03:30"]]])
        #expect(!gap.isOpen(at: utc("2026-03-08T06:59:00Z")))  // 01:59 EST
        #expect(gap.isOpen(at: utc("2026-03-08T07:00:00Z")))  // 03:00 EDT
        #expect(!gap.isOpen(at: utc("2026-03-08T07:30:00Z")))  // 03:30 EDT
        #expect(gap.nextChange(after: utc("2026-03-08T05:00:00Z")) == utc("2026-03-08T07:00:00Z"))
        #expect(gap.openSeconds(from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-09T12:00:00Z")) == 1800)
        // The week before, the same range is a full hour from 07:30 UTC (02:30 EST).
        #expect(gap.nextChange(after: utc("2026-03-01T05:00:00Z")) == utc("2026-03-01T07:30:00Z"))
        #expect(gap.openSeconds(from: utc("2026-03-01T00:00:00Z"), to: utc("2026-03-02T12:00:00Z")) == 3600)

        let early = try calendar("America/New_York", ["sun": [["01:00", "05:00"]]])
        #expect(early.openSeconds(from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-09T00:00:00Z")) == 3 * 3600)
        #expect(early.nextChange(after: utc("2026-03-08T06:30:00Z")) == utc("2026-03-08T09:00:00Z"))
    }

    @Test func newYorkRepeatsOneOClockInNovember() throws {
        // Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:00-02:00 happens twice.
        let early = try calendar("America/New_York", ["sun": [["01:00", "05:00"]]])
        #expect(early.openSeconds(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 5 * 3600)
        #expect(early.isOpen(at: utc("2026-11-01T05:30:00Z")))  // 01:30 EDT
        #expect(early.isOpen(at: utc("2026-11-01T06:30:00Z")))  // 01:30 EST
        #expect(early.nextChange(after: utc("2026-11-01T05:30:00Z")) == utc("2026-11-01T10:00:00Z"))
        let once = try calendar("America/New_York", ["sun": [["01:15", "01:45"]]])
        #expect(once.nextChange(after: utc("2026-11-01T05:20:00Z")) == utc("2026-11-01T05:45:00Z"))
        #expect(once.nextChange(after: utc("2026-11-01T05:50:00Z")) == utc("2026-11-01T06:15:00Z"))
        #expect(once.openSeconds(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 3600)
    }

    // MARK: - Holidays, 24:00, and calendars that never change

    @Test func aHolidayClosesTheWholeLocalDay() throws {
        let office = try calendar("Europe/Copenhagen", Self.officeWeek, holidays: ["2026-12-24", "2026-12-25"])
        #expect(office.isOpen(at: utc("2026-12-23T09:00:00Z")))
        #expect(!office.isOpen(at: utc("2026-12-24T09:00:00Z")))  // Thursday, a holiday
        #expect(!office.isOpen(at: utc("2026-12-25T09:00:00Z")))  // Friday, a holiday
        #expect(office.nextChange(after: utc("2026-12-23T16:30:00Z")) == utc("2026-12-28T08:00:00Z"))
        #expect(office.openSeconds(from: utc("2026-12-21T00:00:00Z"), to: utc("2026-12-28T00:00:00Z")) == 3 * 8 * 3600)
        #expect(
            office.instant(afterOpenSeconds: 3600, from: utc("2026-12-23T15:30:00Z")) == utc("2026-12-28T08:30:00Z"))

        // The holiday is the local date: in New York 4 July runs from 04:00 UTC to 04:00 UTC the next day.
        let always = try calendar(
            "America/New_York",
            Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0.rawValue, [["00:00", "24:00"]]) }),
            holidays: ["2026-07-04"])
        #expect(always.isOpen(at: utc("2026-07-04T03:59:00Z")))
        #expect(!always.isOpen(at: utc("2026-07-04T04:00:00Z")))
        #expect(always.nextChange(after: utc("2026-07-01T12:00:00Z")) == utc("2026-07-04T04:00:00Z"))
        #expect(always.nextChange(after: utc("2026-07-04T12:00:00Z")) == utc("2026-07-05T04:00:00Z"))
        #expect(always.nextChange(after: utc("2026-07-05T12:00:00Z")) == nil)
        #expect(always.openSeconds(from: utc("2026-07-03T04:00:00Z"), to: utc("2026-07-06T04:00:00Z")) == 2 * 86_400)
    }

    @Test func rangesEndingAt2400RunOnIntoTheNextDay() throws {
        let nights = try calendar("Europe/Copenhagen", ["fri": [["18:00", "24:00"]], "sat": [["00:00", "06:00"]]])
        // Friday 6 March 2026, 19:00 CET: open until Saturday 06:00 CET, one change, not two.
        #expect(nights.isOpen(at: utc("2026-03-06T18:00:00Z")))
        #expect(nights.isOpen(at: utc("2026-03-06T23:00:00Z")))  // Saturday 00:00 local
        #expect(nights.nextChange(after: utc("2026-03-06T18:00:00Z")) == utc("2026-03-07T05:00:00Z"))
        #expect(nights.nextChange(after: utc("2026-03-07T05:00:00Z")) == utc("2026-03-13T17:00:00Z"))
        #expect(nights.openSeconds(from: utc("2026-03-06T00:00:00Z"), to: utc("2026-03-08T00:00:00Z")) == 12 * 3600)
        #expect(
            nights.instant(afterOpenSeconds: 7 * 3600, from: utc("2026-03-06T12:00:00Z")) == utc("2026-03-07T00:00:00Z")
        )
    }

    @Test func aCalendarThatNeverOpensAnswersNilAndNothingLoops() throws {
        let closed = try calendar("Europe/Copenhagen", [:])
        let now = utc("2026-06-01T12:00:00Z")
        #expect(!closed.isOpen(at: now))
        #expect(closed.nextChange(after: now) == nil)
        #expect(closed.instant(afterOpenSeconds: 60, from: now) == nil)
        #expect(closed.openSeconds(from: now, to: now.addingTimeInterval(86_400 * 365)) == 0)
        // Days listed with no ranges, and holidays, still never open.
        let emptyDays = try calendar("Europe/Copenhagen", ["mon": [], "tue": []], holidays: ["2026-06-01"])
        #expect(emptyDays.nextChange(after: now) == nil)
        #expect(emptyDays.instant(afterOpenSeconds: 1, from: now) == nil)
    }

    @Test func aCalendarOpenAllWeekNeverChanges() throws {
        let always = try calendar(
            "Asia/Tokyo",
            Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0.rawValue, [["00:00", "24:00"]]) }))
        let now = utc("2026-03-29T01:30:00Z")
        #expect(always.isOpen(at: now))
        #expect(always.nextChange(after: now) == nil)
        #expect(always.openSeconds(from: now, to: now.addingTimeInterval(1000)) == 1000)
        #expect(always.instant(afterOpenSeconds: 1000, from: now) == now.addingTimeInterval(1000))
        // Open all week in a zone with daylight saving: the changes of clocks are no change of state.
        let copenhagen = try calendar(
            "Europe/Copenhagen",
            Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0.rawValue, [["00:00", "24:00"]]) }))
        #expect(copenhagen.nextChange(after: utc("2026-03-28T12:00:00Z")) == nil)
        #expect(
            copenhagen.instant(afterOpenSeconds: 86_400, from: utc("2026-03-28T12:00:00Z"))
                == utc("2026-03-29T12:00:00Z"))
    }

    @Test func weeksOfHolidaysArePassedOver() throws {
        // Open Mondays only, and four Mondays in a row are holidays.
        let mondays = try calendar(
            "Europe/Copenhagen", ["mon": [["10:00", "11:00"]]],
            holidays: ["2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22"])
        let start = utc("2026-05-30T00:00:00Z")
        #expect(mondays.nextChange(after: start) == utc("2026-06-29T08:00:00Z"))
        #expect(mondays.instant(afterOpenSeconds: 5400, from: start) == utc("2026-07-06T08:30:00Z"))
        #expect(mondays.openSeconds(from: start, to: utc("2026-07-07T00:00:00Z")) == 7200)
    }

    // MARK: - The four answers agree with each other

    /// For random calendars and instants in both zones, through a year with both changes of clocks:
    /// open time equals a minute-by-minute count of `isOpen`; `nextChange` is the first flip;
    /// `instant(afterOpenSeconds:)` is the inverse of `openSeconds`.
    @Test(arguments: ["Europe/Copenhagen", "America/New_York"])
    func theAnswersAgreeWithAMinuteByMinuteWalk(zone: String) throws {
        var random = SplitMix(seed: zone.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
        var flips = 0
        for _ in 0..<40 {
            var weekly: [String: [[String]]] = [:]
            for day in Weekday.allCases {
                var minute = 0
                var ranges: [[String]] = []
                while minute < 1440, ranges.count < 3, random.next() % 3 != 0 {
                    let start = minute + Int(random.next() % 600)
                    let end = min(1440, start + 1 + Int(random.next() % 600))
                    guard start < 1440 else { break }
                    ranges.append([OpenRange.text(start), OpenRange.text(end)])
                    minute = end + 1
                }
                weekly[day.rawValue] = ranges
            }
            let startDay = 20_454 + Int(random.next() % 365)  // a day of 2026
            let holiday = LocalDate(dayNumber: startDay + 1).text
            let cal = try calendar(zone, weekly, holidays: [holiday])
            let from = Date(timeIntervalSince1970: Double(startDay) * 86_400 + Double(random.next() % 86_400))
            let to = from.addingTimeInterval(3 * 86_400)
            // Every change lies on a whole minute (both zones change on the hour), so half-minutes sample.
            var counted: TimeInterval = 0
            var t = (from.timeIntervalSince1970 / 60).rounded(.up) * 60
            var changes: [Date] = []
            var previous = cal.isOpen(at: Date(timeIntervalSince1970: t - 30))
            while t < to.timeIntervalSince1970 {
                let open = cal.isOpen(at: Date(timeIntervalSince1970: t + 30))
                if open { counted += 60 }
                if open != previous { changes.append(Date(timeIntervalSince1970: t)) }
                previous = open
                t += 60
            }
            let head = (from.timeIntervalSince1970 / 60).rounded(.up) * 60 - from.timeIntervalSince1970
            flips += changes.count
            let exact = cal.openSeconds(from: from, to: Date(timeIntervalSince1970: t))
            let headOpen = cal.isOpen(at: from) ? head : 0
            #expect(exact == counted + headOpen, "\(zone) \(weekly) from \(from)")
            // Every flip the walk saw is the next change of the moment just before it.
            for change in changes.prefix(20) {
                #expect(cal.nextChange(after: change.addingTimeInterval(-30)) == change, "\(zone) \(weekly) \(change)")
            }
            if exact > 0 {
                let due = try #require(cal.instant(afterOpenSeconds: exact, from: from))
                #expect(due <= Date(timeIntervalSince1970: t))
                #expect(cal.openSeconds(from: from, to: due) == exact)
                #expect(cal.openSeconds(from: due, to: Date(timeIntervalSince1970: t)) == 0)
            }
        }
        #expect(flips > 100, "the random calendars should open and close often")
    }

    // MARK: - Cost

    /// SLA due times for 100,000 conversations: each over a week of office hours with a change of clocks.
    @Test func aHundredThousandDueTimesTakeWellUnderASecondOfWork() throws {
        let office = try calendar("Europe/Copenhagen", Self.officeWeek, holidays: ["2026-04-03", "2026-04-06"])
        let base = utc("2026-03-25T10:00:00Z").timeIntervalSince1970
        let clock = ContinuousClock()
        var last = Date.distantPast
        let elapsed = clock.measure {
            for i in 0..<100_000 {
                let from = Date(timeIntervalSince1970: base + Double(i % 5000) * 97)
                last = max(last, office.instant(afterOpenSeconds: 16 * 3600, from: from) ?? last)
            }
        }
        #expect(last > utc("2026-03-30T00:00:00Z"))
        // A generous bound for a shared machine; measured far below it.
        #expect(elapsed < .seconds(10), "\(elapsed)")
    }
}

/// A small deterministic generator, so a failure repeats.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
