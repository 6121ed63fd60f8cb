/// One client connection's state. Owned and touched only by its event loop's thread.
final class HTTPConnection {
    let fd: Int32
    /// Distinguishes this connection from a later one that reuses the same descriptor.
    let generation: UInt64
    var input: [UInt8] = []
    var readIndex = 0
    var parser: RequestParser
    var output: [UInt8] = []
    var outputIndex = 0
    /// A request is with its handler; later pipelined requests wait so answers stay in order.
    var inFlight = false
    var closeAfterFlush = false
    /// The peer closed its sending side; answer what is pending, then close.
    var readClosed = false
    var readingPaused = false
    var writeInterest = false
    /// Last time bytes moved in either direction (ns, monotonic).
    var lastActivity: UInt64
    /// When the first byte of the request now being read arrived (ns); 0 when none is.
    var requestStarted: UInt64 = 0

    init(fd: Int32, generation: UInt64, limits: ParserLimits, now: UInt64) {
        self.fd = fd
        self.generation = generation
        self.parser = RequestParser(limits: limits)
        self.lastActivity = now
    }

    var hasPendingOutput: Bool { outputIndex < output.count }

    /// Drops consumed input so the buffer does not grow across a long keep-alive session.
    func compactInput() {
        if readIndex == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 64 * 1024)
            readIndex = 0
        } else if readIndex > 32 * 1024 {
            input.removeFirst(readIndex)
            readIndex = 0
        }
    }
}

@available(*, unavailable)
extension HTTPConnection: Sendable {}
