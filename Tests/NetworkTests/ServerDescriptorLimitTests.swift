import ConciergeHTTPClient
import Foundation
import Glibc
import TestSupport
import Testing

/// The service under a low descriptor limit: it raises the soft limit to what its connection cap
/// needs, lowers the cap where the hard limit cannot hold it, and when descriptors run out anyway it
/// answers 503 instead of spinning on a listener it cannot accept from.
@Suite(.serialized) struct ServerDescriptorLimitTests {
    @Test func outOfDescriptorsTheServiceAnswers503AndDoesNotSpin() async throws {
        try await withContacts(ulimit: "-n 64") { service in
            // Log lines are written in batches every 100 ms.
            #expect(await eventually { service.log.contains("connection cap lowered to fit the descriptor limit") })
            // Far more connections than descriptors: past the lowered cap, then past the descriptors.
            let crowd = try await offPool { try (0..<200).map { _ in try RawConnection.connect(port: service.port) } }
            for attempt in 0..<20 {
                let connection = try await RawConnection.connect(port: service.port)
                try await connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect((try? await connection.response(timeout: 1))?.status == 503, "new client \(attempt)")
            }
            // Waiting clients are answered, not polled for: the process stays near idle.
            let busy = try await service.cpuSeconds(over: 1)
            #expect(busy < 0.3, "\(busy) s of CPU in 1 s with descriptors exhausted")
            for connection in crowd { connection.close() }
            let servedAgain = await eventually(within: 15) {
                (try? await HTTPClient().get("http://127.0.0.1:\(service.port)/healthz"))?.status == 200
            }
            #expect(servedAgain)
        }
    }

    @Test func theSoftDescriptorLimitIsRaisedToWhatTheCapNeeds() async throws {
        var hard = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &hard)
        try await withContacts(ulimit: "-S -n 64") { service in
            // The cap of 4,096 connections plus a reserve of 256 for everything else.
            let wanted = min(4_096 + 256, Int(clamping: hard.rlim_max))
            #expect(service.softDescriptorLimit == wanted)
            #expect(await eventually { service.log.contains("listening") })
            #expect(service.log.contains("connection cap lowered") == (wanted < 4_096 + 256))
        }
    }
}

/// A concierge-contacts process started through `sh -c 'ulimit …; exec …'`.
struct LimitedService {
    let process: Process
    let port: Int
    let logPath: String

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The soft `Max open files` of the running process.
    var softDescriptorLimit: Int? {
        let limits = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8)) ?? ""
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else {
            return nil
        }
        return line.split(separator: " ").compactMap { Int($0) }.first
    }

    /// User plus system CPU seconds the process used during the next `seconds` seconds.
    func cpuSeconds(over seconds: Double) async throws -> Double {
        let before = ticks()
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        return Double(ticks() - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// utime + stime from `/proc/<pid>/stat` (fields 14 and 15; the command name may hold spaces).
    private func ticks() -> Int {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }
}

/// Runs concierge-contacts with a shell's `ulimit` arguments for the duration of `body`; always stops it.
func withContacts(ulimit: String, _ body: (LimitedService) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("descriptor-limit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let port = freePort()
    let logPath = folder.appendingPathComponent("contacts.log").path
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "ulimit \(ulimit) && exec \"$0\"", Binaries.path("concierge-contacts")]
    process.environment = [
        "HOST": "127.0.0.1", "PORT": String(port),
        "DATABASE_PATH": folder.appendingPathComponent("contacts.sqlite").path,
        "CONCIERGE_JWT_SECRET": testSecret, "LOG_LEVEL": "info",
    ]
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardOutput = log
    process.standardError = log
    try process.run()
    defer {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
    let ready = await eventually(within: 15) {
        guard process.isRunning else { return true }
        let readiness = ClientRequest(method: "GET", url: "http://127.0.0.1:\(port)/readyz")
        return (try? await HTTPClient().send(readiness, timeout: 1))?.status == 200
    }
    let startLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    try #require(ready && process.isRunning, "contacts did not start: \(startLog)")
    try await body(LimitedService(process: process, port: port, logPath: logPath))
    kill(process.processIdentifier, SIGTERM)
    _ = await eventually(within: 12) { !process.isRunning }
}
