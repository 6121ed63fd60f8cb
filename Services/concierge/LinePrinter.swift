import Foundation
import Synchronization

/// Writes whole lines to stdout from any task, in the order they are given. A catch-up's many lines
/// are gathered and written in large pieces; live lines go out at once. Once stdout is closed (the
/// reader of a pipe went away, as `| head` does) every write says so, and the command ends.
final class LinePrinter: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var closed = false
    }

    /// Bytes gathered before they are written.
    static let batchBytes = 64 * 1024

    private let state = Mutex(State())
    private let descriptor: Int32

    init(descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
    }

    /// Adds `line` and a line break, written now when `immediately`, else once enough have gathered.
    /// - Returns: `false` once the output is closed.
    @discardableResult
    func print(_ line: String, immediately: Bool = false) -> Bool {
        state.withLock { state in
            state.pending.append(contentsOf: line.utf8)
            state.pending.append(10)
            return immediately || state.pending.count >= Self.batchBytes ? write(&state) : !state.closed
        }
    }

    /// Writes what has gathered. - Returns: `false` once the output is closed.
    @discardableResult
    func flush() -> Bool {
        state.withLock { write(&$0) }
    }

    private func write(_ state: inout State) -> Bool {
        defer { state.pending.removeAll(keepingCapacity: true) }
        guard !state.closed else { return false }
        var offset = 0
        while offset < state.pending.count {
            let written = state.pending[offset...].withUnsafeBytes { bytes in
                Glibc.write(descriptor, bytes.baseAddress, bytes.count)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                state.closed = true
                return false
            }
            offset += written
        }
        return true
    }
}
