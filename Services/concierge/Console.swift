import Foundation

/// Writes whole lines straight to stdout or stderr. Unbuffered, so the CLI's lines appear in order
/// with the log lines of the children, which share the same terminal.
enum Console {
    static func out(_ line: String) { write(line, to: .standardOutput) }

    static func err(_ line: String) { write(line, to: .standardError) }

    enum Color: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case dim = "2"
    }

    /// `text` in `color` when stdout is a terminal and `NO_COLOR` is unset (no-color.org), else as is.
    static func styled(_ text: String, _ color: Color) -> String {
        usesColor ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    private static let usesColor = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    private static func write(_ line: String, to handle: FileHandle) {
        // A closed stdout (`concierge token | true`) is not worth failing over.
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }
}
