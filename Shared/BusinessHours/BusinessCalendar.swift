import Foundation

/// A business-hours calendar: weekly opening hours on the wall clock of one IANA time zone, and holidays
/// that close whole local days (SPEC §10). A value is always valid — both initialisers check it — and
/// answers, as pure functions of the instant it is given, whether it is open, when that next changes,
/// how much open time lies between two instants, and when an amount of open time will have passed
/// (`BusinessCalendar+Math.swift`).
///
/// The calendar is open at an instant when that instant's local date is no holiday and its local time
/// of day lies in one of that weekday's ranges. Everything else follows from that one rule: a range
/// starting at a local time that a daylight-saving change skips opens when the clocks jump past it;
/// an hour the clocks repeat counts twice.
public struct BusinessCalendar: Sendable, Equatable {
    /// At most this many ranges in one day.
    public static let maximumRangesPerDay = 48
    /// At most this many holidays in one calendar.
    public static let maximumHolidays = 1000
    /// A name at most this many characters long.
    public static let maximumNameLength = 200

    public let id: String
    public let name: String
    /// The IANA identifier as given (`Europe/Copenhagen`).
    public let timeZone: String
    /// Each weekday's ranges in time order, none overlapping; a closed day has none.
    public let weekly: [Weekday: [OpenRange]]
    /// In date order.
    public let holidays: [Holiday]

    let zone: TimeZone
    /// `weekly` by `Weekday.index`, for the day-by-day walks.
    let days: [[OpenRange]]
    /// The holidays as days counted from 1970-01-01.
    let holidayDays: Set<Int>
    /// The last holiday's day number, or `Int.min`: after it the weekly hours repeat unchanged.
    let lastHolidayDay: Int
    /// Some weekday has a range.
    let hasOpenTime: Bool
    /// Every weekday is open from 00:00 to 24:00.
    let isOpenAllWeek: Bool

    /// A calendar from checked parts; throws every field that is wrong: an unknown time zone, a range
    /// outside 00:00 ... 24:00 or ending where it starts or before, ranges of a day that overlap, more
    /// than `maximumRangesPerDay` ranges in a day, a holiday date listed twice, too many holidays.
    /// Ranges may be given in any order; they are kept in time order.
    public init(
        id: String, name: String, timeZone: String, weekly: [Weekday: [OpenRange]], holidays: [Holiday] = []
    ) throws(BusinessCalendarError) {
        var errors: [BusinessCalendarError.FieldError] = []
        BusinessCalendar.checkName(name, into: &errors)
        let zone = BusinessCalendar.zone(timeZone, into: &errors)
        var sortedWeek: [Weekday: [OpenRange]] = [:]
        for day in Weekday.allCases {
            sortedWeek[day] = BusinessCalendar.checked(
                weekly[day] ?? [], field: "weekly.\(day.rawValue)", into: &errors)
        }
        var seen: Set<LocalDate> = []
        for (index, holiday) in holidays.enumerated() where !seen.insert(holiday.date).inserted {
            errors.append(.init(field: "holidays[\(index)].date", message: "\(holiday.date.text) is listed twice."))
        }
        if holidays.count > BusinessCalendar.maximumHolidays {
            errors.append(
                .init(field: "holidays", message: "At most \(BusinessCalendar.maximumHolidays) holidays are allowed."))
        }
        guard errors.isEmpty, let zone else { throw BusinessCalendarError(errors) }
        self.init(id: id, name: name, timeZone: timeZone, zone: zone, weekly: sortedWeek, holidays: holidays)
    }

    /// A calendar from what a client wrote: `"HH:MM"` times, weekday keys and `"YYYY-MM-DD"` dates are
    /// parsed here, and every wrong field is thrown at once.
    public init(id: String, definition: CalendarDefinition) throws(BusinessCalendarError) {
        var errors: [BusinessCalendarError.FieldError] = []
        var weekly: [Weekday: [OpenRange]] = [:]
        for key in definition.weekly.keys.sorted() {
            guard let day = Weekday(rawValue: key) else {
                errors.append(.init(field: "weekly.\(key)", message: "Days are mon, tue, wed, thu, fri, sat and sun."))
                continue
            }
            var ranges: [OpenRange] = []
            for (index, pair) in (definition.weekly[key] ?? []).enumerated() {
                let field = "weekly.\(key)[\(index)]"
                guard pair.count == 2 else {
                    errors.append(.init(field: field, message: "A range is two times, [\"09:00\", \"17:00\"]."))
                    continue
                }
                guard let start = OpenRange.minutes(pair[0]), let end = OpenRange.minutes(pair[1]) else {
                    errors.append(
                        .init(field: field, message: "Times are \"HH:MM\" from \"00:00\" to \"24:00\"."))
                    continue
                }
                ranges.append(OpenRange(start: start, end: end))
            }
            weekly[day] = ranges
        }
        var holidays: [Holiday] = []
        for (index, entry) in (definition.holidays ?? []).enumerated() {
            guard let date = LocalDate(entry.date) else {
                errors.append(
                    .init(
                        field: "holidays[\(index)].date",
                        message: "\"\(entry.date)\" is not a date \"YYYY-MM-DD\" between 1970 and 2200."))
                continue
            }
            holidays.append(Holiday(date: date, name: entry.name ?? ""))
        }
        do {
            try self.init(
                id: id, name: definition.name, timeZone: definition.timeZone, weekly: weekly, holidays: holidays)
        } catch {
            // Parse errors first, then the rule errors of what could be parsed, in one answer.
            throw BusinessCalendarError(errors + error.errors)
        }
        if !errors.isEmpty { throw BusinessCalendarError(errors) }
    }

    private init(
        id: String, name: String, timeZone: String, zone: TimeZone, weekly: [Weekday: [OpenRange]], holidays: [Holiday]
    ) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.zone = zone
        self.weekly = weekly
        self.holidays = holidays.sorted { $0.date < $1.date }
        days = Weekday.allCases.map { weekly[$0] ?? [] }
        holidayDays = Set(holidays.map(\.date.dayNumber))
        lastHolidayDay = holidayDays.max() ?? Int.min
        hasOpenTime = days.contains { !$0.isEmpty }
        isOpenAllWeek = days.allSatisfy { $0 == [OpenRange(start: 0, end: 1440)] }
    }

    /// The definition this calendar was made from, in its wire form (every weekday present).
    public var definition: CalendarDefinition {
        var week: [String: [[String]]] = [:]
        for day in Weekday.allCases { week[day.rawValue] = (weekly[day] ?? []).map(\.wire) }
        return CalendarDefinition(
            name: name, timeZone: timeZone, weekly: week,
            holidays: holidays.map { .init(date: $0.date.text, name: $0.name) })
    }

    /// The same calendar under another id (a stored definition given its id back).
    public func with(id: String) -> BusinessCalendar {
        BusinessCalendar(id: id, name: name, timeZone: timeZone, zone: zone, weekly: weekly, holidays: holidays)
    }

    private static func checkName(_ name: String, into errors: inout [BusinessCalendarError.FieldError]) {
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            errors.append(.init(field: "name", message: "A calendar needs a name."))
        } else if name.count > maximumNameLength {
            errors.append(.init(field: "name", message: "At most \(maximumNameLength) characters."))
        }
    }

    private static func zone(_ identifier: String, into errors: inout [BusinessCalendarError.FieldError]) -> TimeZone? {
        // `TimeZone(identifier:)` also takes abbreviations and "GMT+5"-style offsets it recognises;
        // an identifier it does not know at all is refused.
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else {
            errors.append(
                .init(
                    field: "timeZone", message: "\"\(identifier)\" is not an IANA time zone (like Europe/Copenhagen)."))
            return nil
        }
        return zone
    }

    private static func checked(
        _ ranges: [OpenRange], field: String, into errors: inout [BusinessCalendarError.FieldError]
    ) -> [OpenRange] {
        if ranges.count > maximumRangesPerDay {
            errors.append(.init(field: field, message: "At most \(maximumRangesPerDay) ranges in a day."))
        }
        var valid = true
        for (index, range) in ranges.enumerated() {
            guard (0..<1440).contains(range.start), (1...1440).contains(range.end) else {
                errors.append(
                    .init(field: "\(field)[\(index)]", message: "Times run from \"00:00\" to \"24:00\"."))
                valid = false
                continue
            }
            if range.end <= range.start {
                errors.append(
                    .init(
                        field: "\(field)[\(index)]",
                        message:
                            "\(OpenRange.text(range.start)) to \(OpenRange.text(range.end)) ends before it starts; "
                            + "a range ends the same day (\"24:00\" at the latest).")
                )
                valid = false
            }
        }
        guard valid else { return ranges }
        let order = ranges.indices.sorted { ranges[$0].start < ranges[$1].start }
        for (previous, next) in zip(order, order.dropFirst()) where ranges[next].start < ranges[previous].end {
            errors.append(
                .init(
                    field: "\(field)[\(next)]",
                    message:
                        "\(ranges[next].wire.joined(separator: "-")) overlaps "
                        + "\(ranges[previous].wire.joined(separator: "-"))."))
        }
        return order.map { ranges[$0] }
    }
}
