/// A local date on which a calendar is closed all day, whatever its weekly hours say.
public struct Holiday: Sendable, Hashable {
    public let date: LocalDate
    public let name: String

    public init(date: LocalDate, name: String) {
        self.date = date
        self.name = name
    }
}
