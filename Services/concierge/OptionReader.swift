/// Reads the `--name value` and `--name=value` options that follow a command name.
/// Every option it reads takes a value; a command with a flag (`events --follow`) takes it out first.
struct OptionReader {
    private var words: ArraySlice<String>
    private var seen: Set<String> = []

    init(_ words: ArraySlice<String>) {
        self.words = words
    }

    /// The next option and its value, or `nil` when the words are used up.
    /// - Throws: `CLIError.usage` for a word that is not an option, a missing value, or an option given twice.
    mutating func next() throws(CLIError) -> (name: String, value: String)? {
        guard let word = words.popFirst() else { return nil }
        guard word.hasPrefix("--"), word.count > 2 else { throw .usage("unexpected argument \"\(word)\"") }
        let name: String
        let value: String
        if let equals = word.firstIndex(of: "=") {
            name = String(word[..<equals])
            value = String(word[word.index(after: equals)...])
        } else {
            // `--sub --ttl 1h` is a forgotten value, not a subject called "--ttl".
            guard let next = words.first, !next.hasPrefix("--") else { throw .usage("\(word) needs a value") }
            words.removeFirst()
            name = word
            value = next
        }
        guard seen.insert(name).inserted else { throw .usage("\(name) is given twice") }
        return (name, value)
    }
}
