/// Why the CLI stops early: the one line it prints, whether the usage follows, and the exit status.
struct CLIError: Error, Equatable {
    let message: String
    let exitCode: Int32
    let showsUsage: Bool
    /// The command whose words were wrong, for a pointer to its own help; `nil` for the command line
    /// as a whole.
    var command: String?

    /// A bad command line: the line, then where the usage is, exit 2.
    static func usage(_ message: String) -> CLIError {
        CLIError(message: message, exitCode: 2, showsUsage: true)
    }

    /// A bad setting (environment variable, secret, data folder): exit 2, like the services (SPEC §1).
    static func configuration(_ message: String) -> CLIError {
        CLIError(message: message, exitCode: 2, showsUsage: false)
    }

    /// Something went wrong while running: exit 1.
    static func failure(_ message: String) -> CLIError {
        CLIError(message: message, exitCode: 1, showsUsage: false)
    }
}
