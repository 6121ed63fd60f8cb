import Foundation

/// A YAML value as the strict subset reader understands it.
public indirect enum YAMLNode: Sendable, Equatable {
    case null
    case scalar(String)
    case sequence([YAMLNode])
    case mapping(YAMLMapping)

    public var scalarValue: String? { if case .scalar(let text) = self { text } else { nil } }
    public var sequenceValue: [YAMLNode]? { if case .sequence(let items) = self { items } else { nil } }
    public var mappingValue: YAMLMapping? { if case .mapping(let mapping) = self { mapping } else { nil } }
}

/// A mapping that remembers the order its keys were written in.
public struct YAMLMapping: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [String: YAMLNode] = [:]

    public subscript(key: String) -> YAMLNode? { values[key] }

    mutating func set(_ key: String, _ value: YAMLNode) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }
}

/// Why the reader refused a document: the line (1-based) and what it did not understand.
public struct YAMLSubsetError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Reads the small part of YAML that `compose/docker-compose.yml` uses, and refuses the rest
/// instead of guessing: block mappings and block sequences indented with spaces, one-line flow
/// sequences of scalars, plain, single- and double-quoted scalars, `#` comments, anchors (`&a`),
/// aliases (`*a`) and merge keys (`<<: *a`, explicit keys win). Not understood, hence errors:
/// tabs, flow mappings, block scalars (`|`, `>`), tags, multi-line flow or quoted scalars,
/// mappings inside sequences, documents (`---`), duplicate keys, complex keys.
public struct YAMLSubsetReader {
    private struct Line {
        var number: Int
        var indent: Int
        var text: String
    }

    private var lines: [Line] = []
    private var position = 0
    private var anchors: [String: YAMLNode] = [:]

    /// Reads a whole document whose top level is a mapping.
    public static func read(_ text: String) throws(YAMLSubsetError) -> YAMLNode {
        var reader = YAMLSubsetReader()
        try reader.split(text)
        guard let first = reader.lines.first else { return .null }
        guard first.indent == 0 else {
            throw YAMLSubsetError(line: first.number, reason: "the document must start at column 1")
        }
        let node = try reader.block(indent: 0)
        if reader.position < reader.lines.count {
            let line = reader.lines[reader.position]
            throw YAMLSubsetError(line: line.number, reason: "unexpected indentation or content: \(line.text)")
        }
        return node
    }

    // MARK: - Lines

    private mutating func split(_ text: String) throws(YAMLSubsetError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var body = Substring(raw)
            if body.hasSuffix("\r") { body = body.dropLast() }
            let indentation = body.prefix { $0 == " " || $0 == "\t" }
            if indentation.contains("\t") { throw YAMLSubsetError(line: number, reason: "tabs in indentation") }
            let content = try Self.strippingComment(String(body.dropFirst(indentation.count)), line: number)
            guard !content.isEmpty else { continue }
            if content == "---" || content == "..." || content.hasPrefix("%") {
                throw YAMLSubsetError(line: number, reason: "document markers and directives are not supported")
            }
            lines.append(Line(number: number, indent: indentation.count, text: content))
        }
    }

    /// The line without a trailing comment (`#` at the start or after a space, outside quotes), trimmed.
    private static func strippingComment(_ text: String, line: Int) throws(YAMLSubsetError) -> String {
        var quote: Character?
        var escaping = false
        var previous: Character = " "
        var end = text.endIndex
        for index in text.indices {
            let character = text[index]
            if let open = quote {
                if escaping {
                    escaping = false
                } else if open == "\"" && character == "\\" {
                    escaping = true
                } else if character == open {
                    quote = nil
                }
            } else if (character == "\"" || character == "'") && " [,".contains(previous) {
                // A quote opens a quoted scalar only where a token starts (not in `don't`).
                quote = character
            } else if character == "#" && (previous == " " || previous == "\t") {
                end = index
                break
            }
            previous = character
        }
        return String(text[..<end]).trimmingTrailingSpaces
    }

    // MARK: - Blocks

    private mutating func block(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        let line = lines[position]
        return Self.isSequenceItem(line.text) ? try sequence(indent: indent) : try mapping(indent: indent)
    }

    private static func isSequenceItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

    private mutating func mapping(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        var mapping = YAMLMapping()
        var merged: [YAMLMapping] = []
        while position < lines.count, lines[position].indent == indent, !Self.isSequenceItem(lines[position].text) {
            let line = lines[position]
            position += 1
            let (key, rest) = try Self.keyAndValue(line)
            if key != "<<" && mapping[key] != nil {
                throw YAMLSubsetError(line: line.number, reason: "duplicate key \(key)")
            }
            let value = try valueAfterKey(rest, line: line, indent: indent)
            if key == "<<" {
                guard let source = value.mappingValue else {
                    throw YAMLSubsetError(
                        line: line.number, reason: "a merge key must name one mapping alias (`<<: *name`)")
                }
                merged.append(source)
            } else {
                mapping.set(key, value)
            }
        }
        if position < lines.count, lines[position].indent > indent {
            throw YAMLSubsetError(
                line: lines[position].number, reason: "unexpected indentation: \(lines[position].text)")
        }
        // Merge keys: explicit keys win, then earlier merges over later ones (YAML merge key rule).
        for source in merged {
            for key in source.keys where mapping[key] == nil { mapping.set(key, source.values[key] ?? .null) }
        }
        return .mapping(mapping)
    }

    private mutating func sequence(indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        var items: [YAMLNode] = []
        while position < lines.count, lines[position].indent == indent, Self.isSequenceItem(lines[position].text) {
            let line = lines[position]
            position += 1
            let rest = String(line.text.dropFirst(1)).trimmingLeadingSpaces
            guard !rest.isEmpty else {
                throw YAMLSubsetError(line: line.number, reason: "nested blocks inside a sequence item")
            }
            if Self.looksLikeKey(rest) {
                throw YAMLSubsetError(line: line.number, reason: "mappings inside sequences: \(rest)")
            }
            if Self.isSequenceItem(rest) { throw YAMLSubsetError(line: line.number, reason: "nested sequences") }
            items.append(try inline(rest, line: line))
        }
        if position < lines.count, lines[position].indent > indent {
            throw YAMLSubsetError(
                line: lines[position].number, reason: "unexpected indentation: \(lines[position].text)")
        }
        return .sequence(items)
    }

    /// The value after `key:`: inline on the line, or the indented block below it.
    private mutating func valueAfterKey(_ rest: String, line: Line, indent: Int) throws(YAMLSubsetError) -> YAMLNode {
        var rest = rest
        var anchor: String?
        if rest.hasPrefix("&") {
            let name = String(rest.dropFirst().prefix { $0 != " " })
            guard Self.isName(name) else { throw YAMLSubsetError(line: line.number, reason: "bad anchor name \(name)") }
            anchor = name
            rest = String(rest.dropFirst(name.count + 1)).trimmingLeadingSpaces
        }
        let node: YAMLNode
        if rest.isEmpty {
            if position < lines.count, lines[position].indent > indent {
                node = try block(indent: lines[position].indent)
            } else if position < lines.count, lines[position].indent == indent,
                Self.isSequenceItem(lines[position].text)
            {
                node = try sequence(indent: indent)
            } else {
                node = .null
            }
        } else {
            node = try inline(rest, line: line)
        }
        if let anchor {
            guard anchors[anchor] == nil else {
                throw YAMLSubsetError(line: line.number, reason: "anchor \(anchor) defined twice")
            }
            anchors[anchor] = node
        }
        return node
    }

    // MARK: - Inline values

    private func inline(_ text: String, line: Line) throws(YAMLSubsetError) -> YAMLNode {
        guard let first = text.first else { return .null }
        switch first {
        case "*":
            let name = String(text.dropFirst())
            guard Self.isName(name), let node = anchors[name] else {
                throw YAMLSubsetError(line: line.number, reason: "unknown alias \(text)")
            }
            return node
        case "[":
            return try flowSequence(text, line: line)
        case "{", "|", ">", "!", "&", "@", "`", "%", "?":
            throw YAMLSubsetError(line: line.number, reason: "not supported by this reader: \(text)")
        case "\"", "'":
            let (scalar, rest) = try Self.quoted(Substring(text), line: line)
            guard rest.trimmingLeadingSpaces.isEmpty else {
                throw YAMLSubsetError(line: line.number, reason: "text after a quoted scalar: \(rest)")
            }
            return .scalar(scalar)
        default:
            if text.contains(": ") || text.hasSuffix(":") {
                throw YAMLSubsetError(
                    line: line.number, reason: "a plain scalar must not contain \": \" (a nested mapping?): \(text)")
            }
            if ["~", "null", "Null", "NULL"].contains(text) { return .null }
            return .scalar(text)
        }
    }

    /// `[a, "b", 'c']` on one line, scalars only.
    private func flowSequence(_ text: String, line: Line) throws(YAMLSubsetError) -> YAMLNode {
        guard text.hasSuffix("]") else {
            throw YAMLSubsetError(line: line.number, reason: "flow sequences must end on their line")
        }
        var rest = Substring(Substring(text.dropFirst().dropLast()).trimmingLeadingSpaces)
        var items: [YAMLNode] = []
        while !rest.isEmpty {
            if rest.first == "\"" || rest.first == "'" {
                let (scalar, after) = try Self.quoted(rest, line: line)
                items.append(.scalar(scalar))
                rest = Substring(after.trimmingLeadingSpaces)
            } else {
                let plain = rest.prefix { $0 != "," }
                if plain.contains(where: { "[]{}#&*!|>\"'".contains($0) }) {
                    throw YAMLSubsetError(line: line.number, reason: "not supported inside a flow sequence: \(plain)")
                }
                items.append(.scalar(String(plain).trimmingTrailingSpaces))
                rest = rest.dropFirst(plain.count)
            }
            if rest.isEmpty { break }
            guard rest.first == "," else {
                throw YAMLSubsetError(line: line.number, reason: "expected , in a flow sequence: \(rest)")
            }
            rest = Substring(rest.dropFirst().trimmingLeadingSpaces)
            if rest.isEmpty { throw YAMLSubsetError(line: line.number, reason: "a trailing comma in a flow sequence") }
        }
        return .sequence(items)
    }

    /// A quoted scalar at the start of `text` and what follows it.
    private static func quoted(_ text: Substring, line: Line) throws(YAMLSubsetError) -> (String, Substring) {
        guard let quote = text.first else { throw YAMLSubsetError(line: line.number, reason: "empty quoted scalar") }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            if quote == "'" && character == "'" {
                if index < text.endIndex, text[index] == "'" {
                    result.append("'")
                    index = text.index(after: index)
                    continue
                }
                return (result, text[index...])
            }
            if quote == "\"" && character == "\"" { return (result, text[index...]) }
            if quote == "\"" && character == "\\" {
                guard index < text.endIndex else { break }
                let escaped = text[index]
                index = text.index(after: index)
                switch escaped {
                case "\\": result.append("\\")
                case "\"": result.append("\"")
                case "/": result.append("/")
                case "n": result.append("\n")
                case "t": result.append("\t")
                default: throw YAMLSubsetError(line: line.number, reason: "escape \\\(escaped) is not supported")
                }
                continue
            }
            result.append(character)
        }
        throw YAMLSubsetError(
            line: line.number, reason: "unterminated quoted scalar (multi-line scalars are not supported)")
    }

    /// `key: value` or `key:` with a plain or quoted key.
    private static func keyAndValue(_ line: Line) throws(YAMLSubsetError) -> (String, String) {
        let text = Substring(line.text)
        var key: String
        var rest: Substring
        if text.first == "\"" || text.first == "'" {
            (key, rest) = try quoted(text, line: line)
            guard rest.first == ":" else {
                throw YAMLSubsetError(line: line.number, reason: "expected : after a quoted key")
            }
            rest = rest.dropFirst()
        } else {
            guard
                let colon = text.range(of: ": ")?.lowerBound
                    ?? (text.hasSuffix(":") ? text.index(before: text.endIndex) : nil)
            else { throw YAMLSubsetError(line: line.number, reason: "expected `key: value`, got: \(text)") }
            key = String(text[..<colon])
            rest = text[text.index(after: colon)...]
            if key.isEmpty || key.contains(where: { "[]{}&*!|>\"'#?,".contains($0) }) {
                throw YAMLSubsetError(line: line.number, reason: "unsupported key: \(key)")
            }
        }
        guard rest.isEmpty || rest.first == " " else {
            throw YAMLSubsetError(line: line.number, reason: "expected a space after :")
        }
        key = key.trimmingTrailingSpaces
        return (key, String(rest).trimmingLeadingSpaces)
    }

    private static func looksLikeKey(_ text: String) -> Bool {
        guard text.first != "\"", text.first != "'", text.first != "[" else { return false }
        return text.contains(": ") || text.hasSuffix(":")
    }

    private static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }
}

extension StringProtocol {
    fileprivate var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }
    fileprivate var trimmingTrailingSpaces: String {
        var text = String(self)
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}
