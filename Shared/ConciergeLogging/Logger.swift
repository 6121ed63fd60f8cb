import ConciergeModels
import Foundation

/// A small logging value: service name, level, sink and metadata (such as `requestId`).
/// Copied per request with its request id; writes one JSON object per line (SPEC §2).
public struct Logger: Sendable {
    public let service: String
    public var level: LogLevel
    public var metadata: [String: String]
    let sink: any LogSink

    public init(
        service: String, level: LogLevel = .info, metadata: [String: String] = [:],
        sink: any LogSink = StandardOutputSink.shared
    ) {
        self.service = service
        self.level = level
        self.metadata = metadata
        self.sink = sink
    }

    /// A copy with extra metadata on every line (e.g. `requestId`).
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.metadata[key] = value
        return copy
    }

    public func debug(_ message: String, _ fields: [String: String] = [:]) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [String: String] = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [String: String] = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [String: String] = [:]) { log(.error, message, fields) }

    public func log(_ lineLevel: LogLevel, _ message: String, _ fields: [String: String] = [:]) {
        guard lineLevel >= level else { return }
        var line = "{\"ts\":\""
        line += Timestamp.now()
        line += "\",\"level\":\""
        line += lineLevel.name
        line += "\",\"service\":"
        JSONString.append(service, to: &line)
        line += ",\"msg\":"
        JSONString.append(message, to: &line)
        for (key, value) in metadata where fields[key] == nil { Self.append(key, value, to: &line) }
        for (key, value) in fields { Self.append(key, value, to: &line) }
        // Every line has the field (SPEC §2); `null` on lines that belong to no request (start, stop).
        if metadata["requestId"] == nil && fields["requestId"] == nil { line += ",\"requestId\":null" }
        line += "}"
        sink.write(line)
    }

    /// Writes pending lines now (before exit).
    public func flush() { sink.flush() }

    private static func append(_ key: String, _ value: String, to line: inout String) {
        line += ","
        JSONString.append(key, to: &line)
        line += ":"
        // Durations and status codes stay numbers so log tools can aggregate them.
        if key == "status" || key == "ms", !value.isEmpty, value.allSatisfy({ $0.isNumber || $0 == "." }) {
            line += value
        } else {
            JSONString.append(value, to: &line)
        }
    }
}

/// JSON string escaping for hand-built lines.
public enum JSONString {
    public static func append(_ value: String, to out: inout String) {
        // Most values need no escaping: copy them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += value
            out += "\""
            return
        }
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
