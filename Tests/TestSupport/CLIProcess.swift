import Foundation

/// Runs the real `concierge` executable to completion without blocking a thread of the shared pool:
/// output goes to files, and the exit is polled.
public enum CLIProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// - Parameter timeout: seconds before the process is killed and the run fails.
    public static func run(_ arguments: [String], environment: [String: String], timeout: Double = 60) async throws
        -> Result
    {
        try await run(Binaries.path("concierge"), arguments, environment: environment, timeout: timeout)
    }

    /// Runs the program at `path` (a built executable, or a launcher such as `setpriv` that runs one).
    /// - Parameter timeout: seconds before the process is killed and the run fails.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String], timeout: Double = 60
    ) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("out")
        let errPath = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outPath.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        let out = try FileHandle(forWritingTo: outPath)
        let err = try FileHandle(forWritingTo: errPath)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else {
                process.terminate()
                throw HarnessError.notReady(
                    "\(path) \(arguments.joined(separator: " ")) (still running after \(timeout) s)", log: "")
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: (try? Data(contentsOf: outPath)) ?? Data(), as: UTF8.self),
            stderr: String(decoding: (try? Data(contentsOf: errPath)) ?? Data(), as: UTF8.self))
    }
}
