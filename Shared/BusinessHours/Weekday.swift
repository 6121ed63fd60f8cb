/// A day of the week as a calendar's `weekly` hours name it (`mon` … `sun`).
public enum Weekday: String, Sendable, Hashable, CaseIterable, Codable {
    case mon, tue, wed, thu, fri, sat, sun

    /// 0 for Monday … 6 for Sunday: the index into a calendar's days.
    public var index: Int {
        switch self {
        case .mon: 0
        case .tue: 1
        case .wed: 2
        case .thu: 3
        case .fri: 4
        case .sat: 5
        case .sun: 6
        }
    }

    /// The weekday of a day counted from 1970-01-01, which was a Thursday.
    static func of(day: Int) -> Weekday {
        allCases[((day + 3) % 7 + 7) % 7]
    }
}
