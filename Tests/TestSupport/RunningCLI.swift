import Foundation
import Glibc
import Synchronization

/// A `concierge` process left running while a test reads what it prints (`concierge events
/// --follow`): its stdout, a pipe, is read on a thread of its own into `lines` as each line arrives;
/// tests wait on them with `eventually`. Its stderr goes to a file. The process is killed when the
/// object goes away, if it still runs.
public final class RunningCLI: Sendable {
    /// What the reading thread has gathered; a class of its own, so that the thread does not keep
    /// the `RunningCLI` alive.
    private final class Output: Sendable {
        struct State {
            var lines: [String] = []
            var partial: [UInt8] = []
            var closed = false
        }

        let state = Mutex(State())
    }

    private let process: Mutex<Process>
    private let output = Output()
    private let errorPath: URL

    public init(_ arguments: [String], environment: [String: String]) throws {
        errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-cli-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorPath.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorPath)
        defer { try? errors.close() }
        let pipe = Pipe()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: Binaries.path("concierge"))
        child.arguments = arguments
        child.environment = environment
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = pipe
        child.standardError = errors
        try child.run()
        process = Mutex(child)
        let descriptor = dup(pipe.fileHandleForReading.fileDescriptor)
        let thread = Thread { [output] in Self.read(descriptor, into: output) }
        thread.name = "cli-stdout"
        thread.start()
    }

    deinit {
        process.withLock { child in
            if child.isRunning {
                kill(child.processIdentifier, SIGKILL)
                child.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(at: errorPath)
    }

    /// The complete lines printed so far, without their line breaks.
    public var lines: [String] { output.state.withLock { $0.lines } }
    /// Whether stdout has been closed (the process ended).
    public var outputClosed: Bool { output.state.withLock { $0.closed } }
    /// What it wrote to stderr so far.
    public var standardError: String {
        String(decoding: (try? Data(contentsOf: errorPath)) ?? Data(), as: UTF8.self)
    }

    /// Its exit status once it has exited by itself (not by a signal), else `nil`.
    public var exitStatus: Int32? {
        process.withLock { child in
            guard !child.isRunning, child.terminationReason == .exit else { return nil }
            return child.terminationStatus
        }
    }

    public var isRunning: Bool { process.withLock { $0.isRunning } }

    public func send(_ signal: Int32) {
        process.withLock { child in
            if child.isRunning { kill(child.processIdentifier, signal) }
        }
    }

    private static func read(_ descriptor: Int32, into output: Output) {
        defer {
            close(descriptor)
            output.state.withLock { $0.closed = true }
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            output.state.withLock { output in
                output.partial.append(contentsOf: buffer[0..<count])
                while let end = output.partial.firstIndex(of: 10) {
                    output.lines.append(String(decoding: output.partial[..<end], as: UTF8.self))
                    output.partial.removeFirst(end + 1)
                }
            }
        }
    }
}
