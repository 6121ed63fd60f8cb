import Foundation

/// Writes whole lines straight to stdout or stderr. Unbuffered, so the CLI's lines appear in order
/// with the log lines of the children, which share the same terminal.
enum Console {
    static func out(_ line: String) { write(line, to: .standardOutput) }

    static func err(_ line: String) { write(line, to: .standardError) }

    private static func write(_ line: String, to handle: FileHandle) {
        // A closed stdout (`concierge token | true`) is not worth failing over.
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }
}
