/// A calendar as a client writes it (`POST /v1/calendars` and `PUT /v1/calendars/{id}` bodies), not yet
/// checked: times stay `"HH:MM"` text and days stay keys, so that what is wrong with them is a 422 naming
/// the field rather than a decoding failure. `BusinessCalendar(id:definition:)` checks it.
public struct CalendarDefinition: Codable, Sendable, Equatable {
    /// A holiday as written: `{"date": "2026-12-24", "name": "Christmas Eve"}`.
    public struct HolidayEntry: Codable, Sendable, Equatable {
        public var date: String
        public var name: String?

        public init(date: String, name: String? = nil) {
            self.date = date
            self.name = name
        }
    }

    public var name: String
    public var timeZone: String
    /// `{"mon": [["09:00", "17:00"]], …}`; a day left out is closed.
    public var weekly: [String: [[String]]]
    public var holidays: [HolidayEntry]?

    public init(name: String, timeZone: String, weekly: [String: [[String]]], holidays: [HolidayEntry]? = nil) {
        self.name = name
        self.timeZone = timeZone
        self.weekly = weekly
        self.holidays = holidays
    }
}
