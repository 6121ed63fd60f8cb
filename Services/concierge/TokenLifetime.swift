/// How long a minted token stays valid, typed as `90s`, `15m`, `1h`, `2d` or plain seconds.
struct TokenLifetime: Equatable {
    /// The default: one hour.
    static let oneHour = TokenLifetime(seconds: 3600)
    /// The longest lifetime accepted, in seconds: 366 days.
    static let maximumSeconds = 366 * 86_400

    private static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]

    let seconds: Int

    private init(seconds: Int) {
        self.seconds = seconds
    }

    /// Parses `text`; `nil` unless it is a positive whole number, optionally followed by one unit
    /// letter, and no longer than `maximumSeconds`.
    init?(_ text: String) {
        var digits = Substring(text)
        var unit = 1
        if let last = text.last, let multiplier = Self.units[last] {
            digits = digits.dropLast()
            unit = multiplier
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else {
            return nil
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, (1...Self.maximumSeconds).contains(seconds) else { return nil }
        self.seconds = seconds
    }
}
