import Foundation
import Glibc

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
    /// A file answer still being sent after `output` (its head) has gone out.
    var file: ResponseFile?
    var fileOffset = 0
    /// A streamed answer this connection carries until it ends (its last answer).
    var stream: ResponseStream?
    /// A request is with its handler; later pipelined requests wait so answers stay in order.
    var inFlight = false
    var closeAfterFlush = false
    /// The last answer refused the request (a 4xx/503 of the server's own): the close is graceful.
    var isRefused = false
    /// The peer closed its sending side; answer what is pending, then close.
    var readClosed = false
    var readingPaused = false
    var writeInterest = false
    /// Last time an answer's bytes went out, or the connection was accepted (ns, monotonic): the idle
    /// clock. Bytes arriving do not move it, so a trickle cannot keep a connection open.
    var lastActivity: UInt64
    /// When the head clock of the request now due started (ns): the accept, the first byte after an idle
    /// wait, or the end of the previous answer when bytes were already waiting; 0 while idle or in flight.
    var requestStarted: UInt64
    /// When the head of the request being read was complete and its body began (ns); 0 with no body due.
    var bodyStarted: UInt64 = 0
    /// When the socket last took less than a whole answer (the client reads slower than we write) (ns).
    var writeStalled: UInt64 = 0
    /// Answer bytes sent since `writeStalled`.
    var bytesSentSinceStall = 0
    /// The file a streaming route's body is being written to.
    var spool: SpoolFile?

    init(fd: Int32, generation: UInt64, limits: ParserLimits, now: UInt64) {
        self.fd = fd
        self.generation = generation
        self.parser = RequestParser(limits: limits)
        self.lastActivity = now
        self.requestStarted = now
    }

    var hasPendingOutput: Bool { outputIndex < output.count || file != nil }

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

/// A temporary file receiving a request body; removed unless handed to a request.
final class SpoolFile {
    let path: String
    private var fd: Int32

    init?() {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(folder)/concierge-body-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { return nil }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Appends bytes; `false` if the disk refused them.
    func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, base + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    /// Closes the file and hands its path over (the request's owner deletes it).
    func finish() -> String {
        if fd >= 0 { close(fd) }
        fd = -1
        return path
    }

    /// Closes and deletes the file (connection closed mid-body, or an error).
    func discard() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(path)
    }
}
