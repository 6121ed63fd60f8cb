import BusinessHours
import Foundation
import Testing

/// What a calendar definition may say: an IANA zone, `"HH:MM"` ranges up to `"24:00"` that neither
/// overlap nor end before they start, a bounded number of them, real holiday dates once each — and
/// every wrong field named in one answer.
@Suite struct BusinessCalendarValidationTests {
    private func definition(
        timeZone: String = "Europe/Copenhagen", weekly: [String: [[String]]] = ["mon": [["09:00", "17:00"]]],
        holidays: [CalendarDefinition.HolidayEntry] = []
    ) -> CalendarDefinition {
        CalendarDefinition(name: "Support", timeZone: timeZone, weekly: weekly, holidays: holidays)
    }

    private func fields(_ definition: CalendarDefinition) -> [String] {
        do {
            _ = try BusinessCalendar(id: "c", definition: definition)
            return []
        } catch {
            return error.errors.map(\.field)
        }
    }

    @Test func aValidDefinitionKeepsItsRangesInTimeOrderAndEveryDay() throws {
        let calendar = try BusinessCalendar(
            id: "c",
            definition: definition(
                weekly: ["mon": [["13:00", "17:00"], ["08:00", "12:00"]], "sat": [["22:00", "24:00"]]],
                holidays: [.init(date: "2026-12-25", name: "Christmas Day"), .init(date: "2026-12-24")]))
        #expect(calendar.weekly[.mon] == [OpenRange(start: 480, end: 720), OpenRange(start: 780, end: 1020)])
        #expect(calendar.weekly[.sat] == [OpenRange(start: 1320, end: 1440)])
        #expect(calendar.weekly[.sun] == [])
        #expect(calendar.holidays.map(\.date.text) == ["2026-12-24", "2026-12-25"])
        let wire = calendar.definition
        #expect(wire.weekly.keys.sorted() == ["fri", "mon", "sat", "sun", "thu", "tue", "wed"])
        #expect(wire.weekly["sat"] == [["22:00", "24:00"]])
        #expect(wire.holidays?.first == .init(date: "2026-12-24", name: ""))
    }

    @Test func anUnknownTimeZoneIsNamed() {
        #expect(fields(definition(timeZone: "Europe/Atlantis")) == ["timeZone"])
        #expect(fields(definition(timeZone: "")) == ["timeZone"])
        #expect(fields(definition(timeZone: "America/New_York")) == [])
    }

    @Test func overlappingRangesAreRefused() {
        #expect(fields(definition(weekly: ["mon": [["09:00", "12:00"], ["11:30", "17:00"]]])) == ["weekly.mon[1]"])
        #expect(fields(definition(weekly: ["tue": [["13:00", "17:00"], ["09:00", "13:30"]]])) == ["weekly.tue[0]"])
        // Touching is not overlapping.
        #expect(fields(definition(weekly: ["mon": [["09:00", "12:00"], ["12:00", "17:00"]]])) == [])
    }

    @Test func aRangeMustEndAfterItStarts() {
        #expect(fields(definition(weekly: ["mon": [["17:00", "09:00"]]])) == ["weekly.mon[0]"])
        #expect(fields(definition(weekly: ["mon": [["09:00", "09:00"]]])) == ["weekly.mon[0]"])
        #expect(fields(definition(weekly: ["mon": [["22:00", "00:00"]]])) == ["weekly.mon[0]"])
    }

    @Test func timesAreHHMMUpTo2400() {
        for bad in ["9:00", "09:60", "25:00", "24:01", "09-00", "0900", " 9:00", "ab:cd", ""] {
            #expect(fields(definition(weekly: ["mon": [[bad, "17:00"]]])) == ["weekly.mon[0]"], "\(bad)")
        }
        #expect(fields(definition(weekly: ["mon": [["24:00", "24:00"]]])) == ["weekly.mon[0]"])
        #expect(fields(definition(weekly: ["mon": [["00:00", "24:00"]]])) == [])
        #expect(fields(definition(weekly: ["mon": [["09:00"]]])) == ["weekly.mon[0]"])
        #expect(fields(definition(weekly: ["mon": [["09:00", "10:00", "11:00"]]])) == ["weekly.mon[0]"])
        #expect(OpenRange.minutes("24:00") == 1440)
        #expect(OpenRange.minutes("07:05") == 425)
        #expect(OpenRange.text(1440) == "24:00")
        #expect(OpenRange.text(65) == "01:05")
    }

    @Test func daysAreNamedByTheirThreeLetters() {
        #expect(fields(definition(weekly: ["monday": [["09:00", "17:00"]]])) == ["weekly.monday"])
        #expect(fields(definition(weekly: [:])) == [])
    }

    @Test func aDayHoldsABoundedNumberOfRanges() {
        let many = (0..<49).map { [OpenRange.text($0 * 20), OpenRange.text($0 * 20 + 10)] }
        #expect(fields(definition(weekly: ["mon": many])) == ["weekly.mon"])
        #expect(fields(definition(weekly: ["mon": Array(many.prefix(48))])) == [])
    }

    @Test func holidaysAreRealDatesListedOnce() {
        #expect(fields(definition(holidays: [.init(date: "2026-02-30")])) == ["holidays[0].date"])
        #expect(fields(definition(holidays: [.init(date: "2026-13-01")])) == ["holidays[0].date"])
        #expect(fields(definition(holidays: [.init(date: "26-12-24")])) == ["holidays[0].date"])
        #expect(fields(definition(holidays: [.init(date: "1800-12-24")])) == ["holidays[0].date"])
        #expect(fields(definition(holidays: [.init(date: "2028-02-29")])) == [])
        #expect(fields(definition(holidays: [.init(date: "2027-02-29")])) == ["holidays[0].date"])
        #expect(
            fields(definition(holidays: [.init(date: "2026-12-24"), .init(date: "2026-12-24")])) == ["holidays[1].date"]
        )
        let tooMany = (0...1000).map { CalendarDefinition.HolidayEntry(date: LocalDate(dayNumber: 20_000 + $0).text) }
        #expect(fields(definition(holidays: tooMany)) == ["holidays"])
    }

    @Test func everyWrongFieldIsNamedAtOnce() {
        let bad = CalendarDefinition(
            name: " ", timeZone: "Nowhere/Else",
            weekly: ["mon": [["09:00", "12:00"], ["10:00", "11:00"]], "tue": [["9", "17:00"]]],
            holidays: [.init(date: "tomorrow")])
        #expect(fields(bad).sorted() == ["holidays[0].date", "name", "timeZone", "weekly.mon[1]", "weekly.tue[0]"])
    }

    @Test func theWireFormRoundTrips() throws {
        let calendar = try BusinessCalendar(
            id: "cal-1",
            definition: definition(
                weekly: ["mon": [["09:00", "17:00"]], "fri": [["18:00", "24:00"]]],
                holidays: [.init(date: "2026-12-24", name: "Christmas Eve")]))
        let data = try JSONEncoder().encode(calendar)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["id"] as? String == "cal-1")
        #expect(object["timeZone"] as? String == "Europe/Copenhagen")
        #expect((object["weekly"] as? [String: Any])?.count == 7)
        #expect(try JSONDecoder().decode(BusinessCalendar.self, from: data) == calendar)
        let invalid = Data(#"{"id":"x","name":"n","timeZone":"Mars/Base","weekly":{}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BusinessCalendar.self, from: invalid) }
    }

    @Test func localDatesCountDaysFrom1970() throws {
        #expect(try #require(LocalDate("1970-01-01")).dayNumber == 0)
        #expect(try #require(LocalDate("2026-03-29")).dayNumber == 20_541)
        #expect(LocalDate(dayNumber: 20_541).text == "2026-03-29")
        for day in stride(from: 0, to: 80_000, by: 97) { #expect(LocalDate(dayNumber: day).dayNumber == day) }
    }
}
