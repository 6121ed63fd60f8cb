import Glibc

/// Listening address, threads, limits and timeouts of one HTTP server (SPEC §2 defaults).
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Event-loop threads; default: one per core.
    public var eventLoops: Int
    /// Open connections allowed; past it new ones get 503 and are closed. Default 4096.
    public var maxConnections = 4096
    /// Seconds a client may take to send a complete request head; default 10.
    public var headerTimeoutSeconds = 10
    /// Seconds a keep-alive connection may sit idle, or a body/write make no progress; default 60.
    public var idleTimeoutSeconds = 60
    /// Seconds in-flight requests get to finish after SIGTERM; default 10.
    public var shutdownGraceSeconds = 10
    public var limits = ParserLimits()

    public init(host: String, port: Int, eventLoops: Int = System.coreCount) {
        self.host = host
        self.port = port
        self.eventLoops = max(1, eventLoops)
    }
}

public enum System {
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
