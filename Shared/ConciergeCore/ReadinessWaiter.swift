/// An event loop that can park a task until a socket is readable, so a request handled on that
/// loop calls another service without handing the exchange to a worker thread and back (two
/// context switches each way on a two-core machine). `HTTPServer`'s loops are waiters.
public protocol ReadinessWaiter: AnyObject, Sendable {
    /// Whether the calling thread is the waiter's own: only then may `waitReadable` be called, and
    /// the task resumes there.
    var isCurrentThread: Bool { get }
    /// Whether tasks other than the caller's are waiting to run on this waiter now.
    var hasOtherJobs: Bool { get }
    /// Suspends until `fd` is readable (or closed by the peer): `true`; or until `deadline`
    /// (CLOCK_MONOTONIC nanoseconds) passes: `false`.
    func waitReadable(_ fd: Int32, deadline: UInt64) async -> Bool
}

/// What the client knows about the task calling it.
public enum ClientIO {
    /// The event loop the current request's handler runs on, if it runs on one.
    @TaskLocal public static var waiter: (any ReadinessWaiter)?
}

/// What a handler may learn about the event loop it runs on.
public enum EventLoopContext {
    /// Whether the caller runs on an event loop with no other job waiting (no other request's handler
    /// to run now): a short wait there holds up nobody else. False off the loops.
    public static var isOnIdleLoop: Bool {
        guard let loop = ClientIO.waiter, loop.isCurrentThread else { return false }
        return !loop.hasOtherJobs
    }
}
