import Synchronization

/// The body of an answer that is written over time — Server-Sent Events, say — rather than at once.
///
/// A handler makes one, hands it to whatever produces the data, and answers `.stream(_:)`. The head
/// goes out with `Transfer-Encoding: chunked`; each `send` becomes one chunk, written by the
/// connection's event loop. Bytes sent before the head has gone out are kept and follow it. The stream
/// ends when the producer calls `finish()`, the client goes away, the client reads too slowly to keep
/// up (`maxBacklogBytes`), or the server drains; then `send` answers `false` and the `onClose`
/// actions run, once. While open, the server writes a comment chunk (`keepAliveComment`) whenever the
/// stream has been quiet for `ServerConfiguration.streamKeepAliveSeconds`, so that proxies and
/// clients keep it open.
///
/// An open stream holds its connection, never a request thread: it counts against the connection
/// limit only.
public final class ResponseStream: Sendable {
    /// Bytes a client may leave unread before the server closes its stream.
    public static let maxBacklogBytes = 4 << 20

    /// What the server writes into a quiet stream; an SSE comment unless the handler says otherwise.
    let keepAliveComment: [UInt8]

    private enum State {
        /// Not yet written by a loop: the chunks sent so far, and whether `finish()` came already.
        case waiting(pending: [UInt8], finished: Bool)
        case attached(Target)
        case closed
    }

    struct Target: Sendable {
        let loop: EventLoop
        let fd: Int32
        let generation: UInt64
    }

    private let state = Mutex<State>(.waiting(pending: [], finished: false))
    private let closeActions = Mutex<[@Sendable () -> Void]>([])

    public init(keepAliveComment: String = ": keep-alive\n\n") {
        self.keepAliveComment = Self.chunk(Array(keepAliveComment.utf8))
    }

    /// Whether the stream has ended (nothing more will be written).
    public var isClosed: Bool {
        state.withLock { if case .closed = $0 { true } else { false } }
    }

    /// Writes `bytes` as the next chunk; `false` once the stream has ended. Empty sends are ignored
    /// (an empty chunk would end the body).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return !isClosed }
        let chunk = Self.chunk(bytes)
        let target: Target? = state.withLock { state in
            switch state {
            case .waiting(var pending, let finished):
                guard !finished else { return nil }
                pending.append(contentsOf: chunk)
                state = .waiting(pending: pending, finished: false)
                return nil
            case .attached(let target): return target
            case .closed: return nil
            }
        }
        if let target {
            target.loop.post(StreamWrite(stream: self, fd: target.fd, generation: target.generation, bytes: chunk))
            return true
        }
        return !isClosed
    }

    /// Ends the body (the terminating chunk); the connection closes once it is written.
    public func finish() {
        let target: Target? = state.withLock { state in
            switch state {
            case .waiting(let pending, _):
                state = .waiting(pending: pending, finished: true)
                return nil
            case .attached(let target): return target
            case .closed: return nil
            }
        }
        if let target {
            target.loop.post(
                StreamWrite(stream: self, fd: target.fd, generation: target.generation, bytes: [], finish: true))
        }
    }

    /// Runs `action` once when the stream ends, on whatever thread ends it (keep it short); at once if
    /// it has already ended.
    public func onClose(_ action: @escaping @Sendable () -> Void) {
        let closed = closeActions.withLock { actions in
            if isClosed { return true }
            actions.append(action)
            return false
        }
        if closed { action() }
    }

    // MARK: - The event loop's side

    /// Binds the stream to its connection once the head is queued there; returns the chunks sent
    /// meanwhile and whether `finish()` came already.
    func attach(_ target: Target) -> (pending: [UInt8], finished: Bool)? {
        state.withLock { state in
            guard case .waiting(let pending, let finished) = state else { return nil }
            state = finished ? .closed : .attached(target)
            return (pending, finished)
        }
    }

    /// Marks the stream ended and runs the close actions (once).
    func markClosed() {
        let wasOpen = state.withLock { state in
            if case .closed = state { return false }
            state = .closed
            return true
        }
        guard wasOpen else { return }
        let actions = closeActions.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
        for action in actions { action() }
    }

    /// One chunk of a chunked body (RFC 9112 §7.1).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out.append(contentsOf: [13, 10])
        out.append(contentsOf: bytes)
        out.append(contentsOf: [13, 10])
        return out
    }

    /// The last chunk, ending the body.
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}

/// Bytes for a stream's connection, posted to its event loop from any thread.
struct StreamWrite: Sendable {
    let stream: ResponseStream
    let fd: Int32
    let generation: UInt64
    let bytes: [UInt8]
    var finish = false
}
