/// The wire form: `{"id", "name", "timeZone", "weekly": {"mon": [["09:00", "17:00"]], …, "sun": []},
/// "holidays": [{"date", "name"}]}`. Decoding checks the calendar as the initialisers do; a calendar
/// that is not valid is a decoding error.
extension BusinessCalendar: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, name, timeZone, weekly, holidays
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(String.self, forKey: .id)
        let definition = CalendarDefinition(
            name: try container.decode(String.self, forKey: .name),
            timeZone: try container.decode(String.self, forKey: .timeZone),
            weekly: try container.decode([String: [[String]]].self, forKey: .weekly),
            holidays: try container.decodeIfPresent([CalendarDefinition.HolidayEntry].self, forKey: .holidays))
        do {
            try self.init(id: id, definition: definition)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: container.codingPath, debugDescription: "Not a valid calendar: \(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let definition = definition
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(definition.weekly, forKey: .weekly)
        try container.encode(definition.holidays ?? [], forKey: .holidays)
    }
}
