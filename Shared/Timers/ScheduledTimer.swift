import Foundation

/// A timer as stored: what a handler is given when it fires, and what `Timers.find` reads back.
public struct ScheduledTimer: Sendable, Equatable {
    /// What the timer is for, e.g. `sla.breach`; the scheduler picks the handler by it.
    public let kind: String
    /// Which one of its kind, e.g. a conversation id and a target; unique within the kind.
    public let key: String
    /// The moment it is for, in ms since the epoch.
    public let dueAt: Int64
    /// What the code that set it left for its handler (small: an id, a little JSON).
    public let payload: [UInt8]
    /// Failed attempts so far: 0 on the first firing.
    public let attempts: Int

    public init(kind: String, key: String, dueAt: Int64, payload: [UInt8], attempts: Int = 0) {
        self.kind = kind
        self.key = key
        self.dueAt = dueAt
        self.payload = payload
        self.attempts = attempts
    }

    /// The moment it is for, as a date.
    public var due: Date { Date(timeIntervalSince1970: Double(dueAt) / 1000) }

    /// `date` in ms since the epoch, rounded up: a timer never fires before its moment.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.up))
    }
}
