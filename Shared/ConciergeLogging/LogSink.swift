import Foundation
import Synchronization

/// Where finished log lines go. The standard sink buffers and writes to stdout; tests collect lines.
public protocol LogSink: Sendable {
    func write(_ line: String)
    func flush()
}

/// Buffers lines and writes them to stdout in batches: when 32 KiB have gathered, every 100 ms,
/// and on `flush()` (shutdown). One `write(2)` per batch keeps logging off the request hot path.
public final class StandardOutputSink: LogSink {
    public static let shared = StandardOutputSink()
    private let buffer = Mutex<[UInt8]>([])

    private init() {
        // The process-wide sink lives as long as the process, and so does its flushing thread.
        let thread = Thread { [self] in
            while true {
                usleep(100_000)
                flush()
            }
        }
        thread.name = "log-flush"
        thread.start()
    }

    public func write(_ line: String) {
        let pending = buffer.withLock { bytes -> [UInt8]? in
            bytes.append(contentsOf: line.utf8)
            bytes.append(10)
            guard bytes.count >= 32 * 1024 else { return nil }
            defer { bytes.removeAll(keepingCapacity: true) }
            return bytes
        }
        if let pending { Self.writeAll(pending) }
    }

    public func flush() {
        let pending = buffer.withLock { bytes -> [UInt8] in
            defer { bytes.removeAll(keepingCapacity: true) }
            return bytes
        }
        if !pending.isEmpty { Self.writeAll(pending) }
    }

    private static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// Keeps lines in memory, for tests that assert on what was logged.
public final class MemorySink: LogSink {
    private let storage = Mutex<[String]>([])
    public init() {}
    public func write(_ line: String) { storage.withLock { $0.append(line) } }
    public func flush() {}
    public var lines: [String] { storage.withLock { $0 } }
}
