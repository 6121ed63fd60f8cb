import Glibc

/// Listening address, threads, limits and timeouts of one HTTP server (SPEC §2 defaults).
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Event-loop threads; default: one per core.
    public var eventLoops: Int
    /// Open connections allowed; past it new ones get 503 and are closed. Default 4096. At start the
    /// descriptor limit is raised to fit it; where the hard limit is too low, the cap is lowered (logged).
    public var maxConnections = 4096
    /// Seconds a client may take to send a complete request head, counted from accepting the connection
    /// or, on a kept-alive one, from the first byte of the next request; default 10 (SPEC §2). Past it:
    /// 408 and close, or a plain close for a connection that never sent a byte.
    public var headerTimeoutSeconds = 10
    /// Seconds a request body, or an answer the client reads slower than it is written, may take before
    /// `minBodyBytesPerSecond` applies; default 10. Past the two: 408 and close for a request body, a
    /// plain close for an answer.
    public var bodyTimeoutSeconds = 10
    /// Slowest average rate of a request body, or of an answer the socket cannot take at once, after
    /// `bodyTimeoutSeconds`: each byte moved extends the deadline by `1 / minBodyBytesPerSecond` s;
    /// default 1 KiB/s (a 1 MiB body: 10 s + 1,024 s at worst), so a client trickling bytes, or reading
    /// them a few at a time, cannot hold a connection.
    public var minBodyBytesPerSecond = 1024
    /// Seconds a kept-alive connection may wait for its next request after the last answer was written;
    /// default 60 (SPEC §2).
    public var idleTimeoutSeconds = 60
    /// Seconds a refused connection (past the cap, or after a 4xx of the server's own such as 408, 413
    /// or 431) is drained after its answer before it is closed, unless the client closes first; default 2.
    public var lingerSeconds = 2
    /// Seconds a streamed answer (`ResponseStream`) may stay quiet before the server writes its
    /// keep-alive comment into it; default 10 (Server-Sent Events readers expect one within 15 s).
    public var streamKeepAliveSeconds = 10
    /// Seconds in-flight requests get to finish after SIGTERM; default 10.
    public var shutdownGraceSeconds = 10
    public var limits = ParserLimits()
    /// Browser origins allowed to call the service (CORS); nil (the default) answers no preflight and
    /// adds no CORS header.
    public var cors: CORSPolicy?

    public init(host: String, port: Int, eventLoops: Int = System.coreCount) {
        self.host = host
        self.port = port
        self.eventLoops = max(1, eventLoops)
    }
}

public enum System {
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Raises the soft limit on open descriptors towards `wanted`, never past the hard limit, and
    /// returns the soft limit in force (`rlim_t.max` is RLIM_INFINITY, which Swift imports badly).
    static func raiseDescriptorLimit(to wanted: Int) -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return wanted }
        if limits.rlim_cur != rlim_t.max && limits.rlim_cur < rlim_t(wanted) {
            limits.rlim_cur = limits.rlim_max == rlim_t.max ? rlim_t(wanted) : min(limits.rlim_max, rlim_t(wanted))
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
        }
        return limits.rlim_cur == rlim_t.max ? wanted : Int(clamping: limits.rlim_cur)
    }
}
