import ConciergeAuth
import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import Synchronization

/// One real service process started by the harness, with its own port and database file.
public final class RunningService: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `restart()`, which tests call from one task at a time;
    // `reaped` is set only by `stop`, from that same task.
    public let kind: ServiceKind
    public let port: Int
    public let databasePath: String
    public let environment: [String: String]
    public let logPath: String
    /// Whether the process runs as an unprivileged user (`Unprivileged`), for tests of file ownership.
    public let unprivileged: Bool
    private(set) var process: Process?
    /// How the process ended when `stop` had to reap it itself (Foundation had not noticed the exit).
    private var reaped: (reason: Process.TerminationReason, status: Int32)?
    /// How far this service's clock was moved (`advanceClock`): a restarted process is moved as far again.
    private let clockOffset = Mutex<Double>(0)

    /// A service not started yet; `environment` is the whole environment of its process.
    public init(
        kind: ServiceKind, port: Int, databasePath: String, environment: [String: String], logPath: String,
        unprivileged: Bool = false
    ) {
        self.kind = kind
        self.port = port
        self.databasePath = databasePath
        self.environment = environment
        self.logPath = logPath
        self.unprivileged = unprivileged
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process?.processIdentifier ?? 0 }
    public var isRunning: Bool { reaped == nil && (process?.isRunning ?? false) }

    /// How the last process ended: `.exit` with `terminationStatus`, or `.uncaughtSignal`; `nil` while
    /// it runs or before it started.
    public var termination: (reason: Process.TerminationReason, status: Int32)? {
        if let reaped { return reaped }
        guard let process, !process.isRunning else { return nil }
        return (process.terminationReason, process.terminationStatus)
    }

    /// Starts the executable and waits until `/readyz` answers 200.
    public func start(timeout: Double = 15) async throws {
        let process = Process()
        if unprivileged {
            // `setpriv` runs the service in its own process (exec), so the pid is the service's.
            let (path, arguments) = Unprivileged.command(kind.executable)
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Binaries.path(kind.executable))
        }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        reaped = nil
        try await waitUntilReady(timeout: timeout)
        let offset = clockOffset.withLock { $0 }
        if offset > 0 { try await moveClock(by: offset) }
    }

    /// Moves the service's wall clock forward by `seconds` (it must run with `CONCIERGE_TEST_CLOCK=true`):
    /// its timers due by then fire at once. A stopped service is moved when it starts again, and a
    /// restart keeps the service as far ahead.
    public func advanceClock(by seconds: Double) async throws {
        if isRunning { try await moveClock(by: seconds) }
        clockOffset.withLock { $0 += seconds }
    }

    private struct ClockAdvance: Encodable, Sendable {
        let advanceSeconds: Double
    }

    private func moveClock(by seconds: Double) async throws {
        let signer = JWTSigner(secret: environment["CONCIERGE_JWT_SECRET"] ?? "")
        let client = ServiceClient(
            baseURL: baseURL, tokens: .fixed(signer.mint(sub: "test-clock", role: .administrator, ttl: 600)))
        _ = try await client.send("POST", "/v1/admin/clock", body: ClockAdvance(advanceSeconds: seconds))
    }

    public func waitUntilReady(timeout: Double = 15) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let process, !process.isRunning {
                throw HarnessError.exited(kind.executable, status: process.terminationStatus, log: logTail())
            }
            let request = ClientRequest(method: "GET", url: baseURL + "/readyz")
            if let response = try? await HTTPClient.shared.send(request, timeout: 1), response.status == 200 { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw HarnessError.notReady(kind.executable, log: logTail())
    }

    /// Sends `signal` (default SIGTERM) and waits for the process to exit; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 15) async -> Int32 {
        guard let process, isRunning else { return termination?.status ?? 0 }
        kill(process.processIdentifier, signal)
        if await exited(process, within: timeout) { return termination?.status ?? process.terminationStatus }
        kill(process.processIdentifier, SIGKILL)
        if await exited(process, within: 5) { return termination?.status ?? process.terminationStatus }
        return -1
    }

    /// Waits for the process to end, with a deadline; never blocks a thread. Foundation sometimes never
    /// notices an exit (seen: a zombie it did not reap, `isRunning` true for ever), so a zombie is
    /// reaped here and its status kept in `reaped`.
    private func exited(_ process: Process, within seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Self.isZombie(process.processIdentifier) {
                var status: Int32 = 0
                if waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier {
                    let signal = status & 0x7f
                    reaped = signal == 0 ? (.exit, (status >> 8) & 0xff) : (.uncaughtSignal, signal)
                    return true
                }
                // Foundation reaped it meanwhile: `isRunning` turns false on the next look.
            }
            guard Date() < deadline else { return false }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return true
    }

    /// Whether `/proc/<pid>/stat` shows the process as a zombie (exited, not yet reaped).
    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "Z"
    }

    /// Stops (SIGTERM, or SIGKILL when `hard`) and starts again on the same port and database.
    public func restart(hard: Bool = false) async throws {
        await stop(signal: hard ? SIGKILL : SIGTERM)
        try await start()
    }

    public func logTail(_ bytes: Int = 4000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }

    /// Every log line so far.
    public var logLines: [String] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Every log line so far that is a JSON object (SPEC §2 log lines), decoded; other lines are skipped.
    public var logRecords: [LogRecord] { logLines.compactMap(LogRecord.init) }
}

/// One JSON log line: `ts`, `level`, `service`, `msg`, `requestId`, and for requests `method`,
/// `route`, `status`, `ms` (SPEC §2).
public struct LogRecord: Sendable {
    public let line: String
    public let fields: [String: JSONValue]

    public init?(_ line: String) {
        guard let object = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)).objectValue else {
            return nil
        }
        self.line = line
        fields = object
    }

    /// A string field, or `nil` when it is absent or not a string.
    public subscript(_ key: String) -> String? { fields[key]?.stringValue }

    public var requestID: String? { self["requestId"] }
    public var status: Int? {
        if case .number(let value)? = fields["status"] { return Int(value) }
        return nil
    }
}

public enum HarnessError: Error, CustomStringConvertible {
    case exited(String, status: Int32, log: String)
    case notReady(String, log: String)
    case notStarted(ServiceKind)
    case dependencyNotHealthy(String, dependency: String, condition: String)
    case unhealthy(String, command: [String], status: Int32)

    public var description: String {
        switch self {
        case .exited(let name, let status, let log): "\(name) exited with \(status):\n\(log)"
        case .notReady(let name, let log): "\(name) did not become ready:\n\(log)"
        case .notStarted(let kind): "\(kind.rawValue) is not part of this cluster"
        case .dependencyNotHealthy(let name, let dependency, let condition):
            "\(name) would start before \(dependency) is up (depends_on condition \(condition))"
        case .unhealthy(let name, let command, let status): "\(name): health check \(command) exited \(status)"
        }
    }
}
