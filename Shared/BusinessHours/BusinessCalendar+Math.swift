import Foundation

/// The calendar's answers about time. Each walks local days — one day's ranges turned into instants at
/// a time — never minutes, so an answer over a week costs a few dozen time-zone look-ups.
extension BusinessCalendar {
    /// How far ahead `nextChange` and `instant(afterOpenSeconds:from:)` look before answering nil:
    /// 20 years of days.
    public static let horizonDays = 7305

    /// Whether the calendar is open at `date`: its local date is no holiday and its local time of day
    /// lies in one of that weekday's ranges.
    public func isOpen(at date: Date) -> Bool {
        guard hasOpenTime else { return false }
        let t = date.timeIntervalSince1970
        let local = t + Double(offset(at: t))
        let day = Int((local / 86_400).rounded(.down))
        guard !holidayDays.contains(day) else { return false }
        let minute = (local - Double(day) * 86_400) / 60
        return days[Weekday.of(day: day).index].contains { Double($0.start) <= minute && minute < Double($0.end) }
    }

    /// The first instant after `date` at which the calendar opens (when closed at `date`) or closes
    /// (when open); nil when it never changes again — open all week with no holiday ahead, or no open
    /// time at all ahead — or not within `horizonDays`.
    public func nextChange(after date: Date) -> Date? {
        let t = date.timeIntervalSince1970
        guard hasOpenTime else { return nil }
        let first = localDay(of: t)
        if isOpenAllWeek && lastHolidayDay < first - 1 { return nil }
        let open = isOpen(at: date)
        // Past the last holiday the week repeats: a week and a day more with no change means none comes.
        let last = min(max(first, lastHolidayDay) + 9, first + BusinessCalendar.horizonDays)
        var pending: Interval?
        var intervals: [Interval] = []
        for day in (first - 1)...last {
            openIntervals(onDay: day, into: &intervals)
            for interval in intervals {
                if var current = pending, interval.start <= current.end {
                    current.end = max(current.end, interval.end)
                    pending = current
                    continue
                }
                // `pending` is complete: nothing later touches it.
                if let done = pending, open, done.start <= t, t < done.end {
                    return Date(timeIntervalSince1970: done.end)
                }
                if !open, interval.start > t { return Date(timeIntervalSince1970: interval.start) }
                pending = interval
            }
        }
        return nil
    }

    /// The open time between `from` and `to` (0 when `to` is not after `from`).
    public func openSeconds(from: Date, to: Date) -> TimeInterval {
        let a = from.timeIntervalSince1970
        let b = to.timeIntervalSince1970
        guard b > a, hasOpenTime else { return 0 }
        var total: TimeInterval = 0
        var intervals: [Interval] = []
        for day in (localDay(of: a) - 1)...(localDay(of: b) + 1) {
            openIntervals(onDay: day, into: &intervals)
            for interval in intervals {
                let start = max(interval.start, a)
                let end = min(interval.end, b)
                if end > start { total += end - start }
            }
        }
        return total
    }

    /// The instant at which `seconds` of open time have passed since `from` (an SLA's due time): `from`
    /// itself for 0 or less, the closing instant when the amount ends exactly there; nil when the
    /// calendar has no open time ahead, or not enough within `horizonDays`.
    public func instant(afterOpenSeconds seconds: TimeInterval, from: Date) -> Date? {
        guard seconds > 0 else { return from }
        guard hasOpenTime else { return nil }
        let a = from.timeIntervalSince1970
        let first = localDay(of: a)
        var remaining = seconds
        var intervals: [Interval] = []
        for day in (first - 1)...(first + BusinessCalendar.horizonDays) {
            openIntervals(onDay: day, into: &intervals)
            for interval in intervals {
                let start = max(interval.start, a)
                guard interval.end > start else { continue }
                let available = interval.end - start
                if remaining <= available { return Date(timeIntervalSince1970: start + remaining) }
                remaining -= available
            }
        }
        return nil
    }

    // MARK: - Local days as instants

    /// Open time as instants, seconds since 1970: `start ..< end`.
    struct Interval: Equatable {
        var start: Double
        var end: Double
    }

    /// A stretch of instants over which the zone's offset from UTC stays `offset` seconds.
    private struct Segment {
        var start: Double
        var end: Double
        var offset: Int
    }

    func offset(at t: Double) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: t))
    }

    /// The local date of `t`, as days since 1970-01-01.
    func localDay(of t: Double) -> Int {
        Int(((t + Double(offset(at: t))) / 86_400).rounded(.down))
    }

    /// Replaces `intervals` with the instants at which the calendar is open on local day `day`, in
    /// order, touching ones joined. Across a change of the zone's offset the day's ranges are laid on
    /// each stretch of constant offset and cut to it: a range over a skipped hour loses it, one over a
    /// repeated hour gains it.
    func openIntervals(onDay day: Int, into intervals: inout [Interval]) {
        intervals.removeAll(keepingCapacity: true)
        guard !holidayDays.contains(day) else { return }
        let ranges = days[Weekday.of(day: day).index]
        guard !ranges.isEmpty else { return }
        let midnight = Double(day) * 86_400
        // Every instant whose local date is `day`: offsets stay within ±18 h.
        let lowest = midnight - 18 * 3600
        let highest = midnight + 86_400 + 18 * 3600
        for segment in segments(from: lowest, to: highest) {
            for range in ranges {
                let start = max(midnight + Double(range.start * 60 - segment.offset), segment.start)
                let end = min(midnight + Double(range.end * 60 - segment.offset), segment.end)
                guard end > start else { continue }
                if let last = intervals.last, start <= last.end {
                    intervals[intervals.count - 1].end = max(last.end, end)
                } else {
                    intervals.append(Interval(start: start, end: end))
                }
            }
        }
        if intervals.count > 1 {
            // Ranges laid per segment come out in order within a segment; sort and join across them.
            intervals.sort { $0.start < $1.start }
            var joined: [Interval] = []
            for interval in intervals {
                if let last = joined.last, interval.start <= last.end {
                    joined[joined.count - 1].end = max(last.end, interval.end)
                } else {
                    joined.append(interval)
                }
            }
            intervals = joined
        }
    }

    /// The stretches of constant offset covering `lowest ..< highest` (whole seconds). The offsets at
    /// both ends are compared, and where they differ the change is found by bisection to the second —
    /// so a day costs two look-ups unless the zone changes its clocks near it. (A change and its
    /// reversal both inside the 60 hours looked at would go unseen; no zone does that.)
    private func segments(from lowest: Double, to highest: Double) -> [Segment] {
        var result: [Segment] = []
        var start = Int(lowest)
        let end = Int(highest)
        var current = offset(at: Double(start))
        let endOffset = offset(at: Double(end))
        while current != endOffset, result.count < 4 {
            // The first second whose offset differs from `current`: in (low, high].
            var low = start
            var high = end
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if offset(at: Double(middle)) == current { low = middle } else { high = middle }
            }
            result.append(Segment(start: Double(start), end: Double(high), offset: current))
            start = high
            current = offset(at: Double(high))
        }
        result.append(Segment(start: Double(start), end: Double(end), offset: current))
        return result
    }
}
