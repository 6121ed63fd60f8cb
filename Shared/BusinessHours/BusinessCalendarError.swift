/// Why a calendar definition was refused: every invalid field, named by its JSON path
/// (`timeZone`, `weekly.mon[1]`, `holidays[0].date`). A service answers it as a 422 problem.
public struct BusinessCalendarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One invalid field and what is wrong with it.
    public struct FieldError: Sendable, Equatable {
        public let field: String
        public let message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public let errors: [FieldError]

    public init(_ errors: [FieldError]) { self.errors = errors }

    public var description: String {
        errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
    }
}
