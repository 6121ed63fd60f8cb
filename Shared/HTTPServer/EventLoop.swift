import CSystem
import ConciergeCore
import Foundation
import Glibc
import Synchronization

/// One epoll thread: accepts on the server's shared listener, reads and parses requests, hands
/// each to a task, and writes the answers that tasks post back. Connection state is touched only
/// on this thread; other threads talk to it through `completions`, `jobs`, `handedOver` and the eventfd.
///
/// Whichever loop wakes for the listener accepts every connection waiting, so a client opening a
/// pool at once had all of it land on one loop (one core busy, the other idle: `Benchmarks/routing.sh`,
/// BENCHMARKS.md "Routing decisions"). An accepted connection therefore goes to the loop serving the
/// fewest, this one when tied (`HTTPServer.loopForNewConnection`), handed over through `adopt`.
///
/// The loop is also a `TaskExecutor`: a request on a route marked `runsOnEventLoop` gets a task that
/// prefers this loop, so its handler runs here between polls and, after each `await`, comes back
/// here — no hop to the global pool and back, which on two cores cost more than the handler itself.
/// Such a handler's calls to other services wait here too (`ReadinessWaiter`): the loop watches the
/// client socket and resumes the task when the answer arrives.
final class EventLoop: @unchecked Sendable {
    struct Completion: Sendable {
        let fd: Int32
        let generation: UInt64
        let bytes: [UInt8]
        let file: ResponseFile?
        let stream: ResponseStream?
        let keepAlive: Bool
    }

    private static let listenerToken = UInt64.max
    private static let wakeToken = UInt64.max - 1
    /// Marks epoll tokens of client sockets a task waits on (server connections' tokens are their fd).
    private static let clientWaitBit: UInt64 = 1 << 40
    /// Marks epoll tokens of refused sockets being drained before they are closed (`linger`).
    private static let lingerBit: UInt64 = 1 << 41
    /// Most refused sockets one loop drains at a time; past it they are closed at once (a flood of
    /// refusals must not hold descriptors beyond the cap without bound).
    private static let maxLingering = 128

    /// A task waiting for a client socket to become readable; loop thread only.
    private struct ReadWait {
        let continuation: CheckedContinuation<Bool, Never>
        let deadline: UInt64
    }

    private var readWaits: [Int32: ReadWait] = [:]
    /// Refused sockets shut down for writing, each with the time it is closed at; loop thread only.
    private var lingering: [Int32: UInt64] = [:]

    private let epollFD: Int32
    private let wakeFD: Int32
    private var listenerFD: Int32
    private let server: HTTPServer
    private let completions = Mutex<[Completion]>([])
    /// Chunks of streamed answers (`ResponseStream`), posted from any thread.
    private let streamWrites = Mutex<[StreamWrite]>([])
    /// Jobs of tasks that prefer this loop, run in order between polls.
    private let jobs = Mutex<[UnownedJob]>([])
    /// Jobs of the current turn still to run after the one running; loop thread only.
    private var jobsLeftInTurn = 0
    /// `pthread_self()` of the loop's thread once `run()` started: posting from it needs no wake-up.
    private let loopThread = Atomic<UInt>(0)
    private var connections: [Int32: HTTPConnection] = [:]
    /// Connections this loop serves, for balancing new ones across loops (read from any thread).
    let openConnections = Atomic<Int>(0)
    /// Accepted sockets another loop handed to this one, taken up between polls.
    private let handedOver = Mutex<[Int32]>([])
    /// Set once `run()` has returned: a socket handed over after that is closed by whoever sees it.
    private let finished = Atomic<Bool>(false)
    private var nextGeneration: UInt64 = 0
    /// A descriptor held in reserve (on /dev/null): out of descriptors, closing it makes room to accept
    /// one waiting client, answer it 503 and close it, instead of leaving the queue unanswered.
    private var spareFD: Int32 = -1
    /// When the listener, out of this loop's epoll for lack of descriptors, is polled again (ns); 0: polled.
    private var listenerPausedUntil: UInt64 = 0
    /// Until when refused sockets are closed at once rather than drained, descriptors having run out (ns).
    private var noLingeringUntil: UInt64 = 0
    private var draining = false
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(server: HTTPServer, listenerFD: Int32) throws(SocketError) {
        self.server = server
        self.listenerFD = listenerFD
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError(call: "epoll_create1", code: errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketError(call: "eventfd", code: errno) }
        register(listenerFD, token: Self.listenerToken, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        register(wakeFD, token: Self.wakeToken, events: EPOLLIN.rawValue)
        spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    // Closed here rather than when `run()` ends: a late `shutdown()` may still hold this loop and write
    // to `wakeFD`, which must not by then be a descriptor the process reused for something else.
    deinit {
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
        if spareFD >= 0 { Glibc.close(spareFD) }
    }

    /// Posts a finished answer from any thread.
    func complete(_ completion: Completion) {
        let wasEmpty = completions.withLock { queue in
            queue.append(completion)
            return queue.count == 1
        }
        if wasEmpty && !onLoopThread { wake() }
    }

    /// Posts a streamed answer's chunk from any thread.
    func post(_ write: StreamWrite) {
        let wasEmpty = streamWrites.withLock { queue in
            queue.append(write)
            return queue.count == 1
        }
        if wasEmpty && !onLoopThread { wake() }
    }

    /// Whether the caller is this loop's thread, which looks at its queues before it next sleeps.
    private var onLoopThread: Bool { pthread_self() == loopThread.load(ordering: .relaxed) }

    /// Asks the loop (from any thread) to stop accepting and close idle connections.
    func beginDraining() {
        drainRequested.store(true, ordering: .releasing)
        wake()
    }

    private let drainRequested = Atomic<Bool>(false)

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Runs until draining has finished: no listener and no connections left, or the grace period ran out.
    func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var lastSweep = Monotonic.nanoseconds()
        var drainDeadline: UInt64 = 0
        while true {
            let count = epoll_wait(epollFD, &events, Int32(events.count), pollTimeout(limit: 250))
            let now = Monotonic.nanoseconds()
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = events[i]
                    switch event.data.u64 {
                    case Self.listenerToken: acceptAll(now: now)
                    case Self.wakeToken: consumeWake()
                    case let token where token & Self.clientWaitBit != 0:
                        resumeReader(Int32(truncatingIfNeeded: token), readable: true)
                    case let token where token & Self.lingerBit != 0:
                        drainLingering(Int32(truncatingIfNeeded: token), events: event.events)
                    default: handle(fd: Int32(truncatingIfNeeded: event.data.u64), events: event.events, now: now)
                    }
                }
            }
            takeHandedOver(now: now)
            expireReadWaits(now: now)
            runJobs()
            drainCompletions(now: now)
            drainStreamWrites(now: now)
            if listenerPausedUntil != 0 && now >= listenerPausedUntil { resumeListening() }
            if !draining && drainRequested.load(ordering: .acquiring) {
                draining = true
                drainDeadline = server.shutdownDeadline
                stopListening()
                for connection in Array(connections.values) where connection.stream != nil {
                    endStream(connection, now: now)
                }
                for connection in Array(connections.values) where !connection.inFlight && !connection.hasPendingOutput {
                    close(connection)
                }
            }
            if draining && (connections.isEmpty || now >= drainDeadline) { break }
            if now - lastSweep >= 1_000_000_000 {
                lastSweep = now
                sweepTimeouts(now: now)
            }
        }
        for connection in Array(connections.values) { close(connection) }
        for fd in Array(lingering.keys) { endLingering(fd) }
        finished.store(true, ordering: .sequentiallyConsistent)
        closeHandedOver()
        // Handlers still running for clients that are gone may be waiting to resume here: keep
        // running their jobs for the rest of the grace period so they finish and are counted out.
        let deadline = server.shutdownDeadline
        while server.requestsInFlightCount > 0 && Monotonic.nanoseconds() < deadline {
            let count = epoll_wait(epollFD, &events, Int32(events.count), pollTimeout(limit: 50))
            for i in 0..<Int(max(0, count)) {
                let token = events[i].data.u64
                if token == Self.wakeToken {
                    consumeWake()
                } else if token & Self.clientWaitBit != 0 && token < Self.wakeToken {
                    resumeReader(Int32(truncatingIfNeeded: token), readable: true)
                }
            }
            expireReadWaits(now: Monotonic.nanoseconds())
            runJobs()
            drainCompletions(now: Monotonic.nanoseconds())
            drainStreamWrites(now: Monotonic.nanoseconds())
        }
        for fd in Array(readWaits.keys) { resumeReader(fd, readable: false) }
        runJobs()
    }

    /// Milliseconds the next poll may sleep: none with work queued, else until the nearest wait's
    /// deadline, at most `limit`.
    private func pollTimeout(limit: Int32) -> Int32 {
        if hasQueuedWork { return 0 }
        var limit = limit
        if listenerPausedUntil != 0 {
            let left = listenerPausedUntil - min(listenerPausedUntil, Monotonic.nanoseconds())
            limit = min(limit, Int32((left + 999_999) / 1_000_000))
        }
        guard let nearest = readWaits.values.map(\.deadline).min() else { return limit }
        let now = Monotonic.nanoseconds()
        guard nearest > now else { return 0 }
        return Int32(min(UInt64(limit), (nearest - now + 999_999) / 1_000_000))
    }

    private func resumeReader(_ fd: Int32, readable: Bool) {
        guard let wait = readWaits.removeValue(forKey: fd) else { return }
        if !readable { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
        wait.continuation.resume(returning: readable)
    }

    private func expireReadWaits(now: UInt64) {
        guard !readWaits.isEmpty else { return }
        for (fd, wait) in readWaits where wait.deadline <= now { resumeReader(fd, readable: false) }
    }

    /// Jobs or answers posted from this thread since it last looked: the next poll must not sleep.
    private var hasQueuedWork: Bool {
        !jobs.withLock { $0.isEmpty } || !completions.withLock { $0.isEmpty } || !handedOver.withLock { $0.isEmpty }
            || !streamWrites.withLock { $0.isEmpty }
    }

    /// Runs the jobs queued so far; those they enqueue wait for the next turn, after a poll.
    private func runJobs() {
        let batch = jobs.withLock { queue -> [UnownedJob] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        let executor = asUnownedTaskExecutor()
        for (index, job) in batch.enumerated() {
            jobsLeftInTurn = batch.count - index - 1
            job.runSynchronously(on: executor)
        }
        jobsLeftInTurn = 0
    }

    /// Whether jobs are waiting on this loop besides the one running; loop thread only.
    var hasOtherJobs: Bool { jobsLeftInTurn > 0 || !jobs.withLock { $0.isEmpty } }

    // MARK: - Accepting

    private func acceptAll(now: UInt64) {
        while true {
            let fd = csystem_accept_nonblocking(listenerFD)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue  // the next one waiting may be fine
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory the listener stays readable: returning would wake this
                    // loop again at once, for ever (both loops spun at 111 % CPU and no one was answered).
                    // Answering comes before closing gracefully: drained refusals give their descriptors
                    // back. Then the first waiting client is refused with the spare descriptor, or, with
                    // none to spare, the listener rests a moment.
                    shedLingering(now: now)
                    switch refuseWithSpareDescriptor() {
                    case .refused: continue
                    case .nothingWaiting: return
                    case .unavailable:
                        pauseListening(now: now)
                        return
                    }
                default: return  // EAGAIN: all taken
                }
            }
            guard server.admitConnection() else {
                // Over the connection cap: a short canned answer, then a graceful close. The server stays up.
                let answer = server.overloadAnswer
                answer.withUnsafeBytes { _ = Socket.write(fd, $0) }
                linger(fd, registered: false, now: now)
                continue
            }
            Socket.setNoDelay(fd)
            let loop = server.loopForNewConnection(preferring: self)
            if loop === self {
                serve(fd, now: now)
            } else {
                loop.adopt(fd)
            }
        }
    }

    private func serve(_ fd: Int32, now: UInt64) {
        nextGeneration += 1
        let connection = HTTPConnection(
            fd: fd, generation: nextGeneration, limits: server.configuration.limits, now: now)
        connections[fd] = connection
        openConnections.add(1, ordering: .relaxed)
        register(fd, token: UInt64(UInt32(bitPattern: fd)), events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    }

    /// Takes an accepted socket from another loop (any thread); this loop serves it from its next poll.
    func adopt(_ fd: Int32) {
        openConnections.add(1, ordering: .relaxed)  // counted now, so the next accept sees it
        let wasEmpty = handedOver.withLock { queue in
            queue.append(fd)
            return queue.count == 1
        }
        if finished.load(ordering: .sequentiallyConsistent) {
            closeHandedOver()
        } else if wasEmpty {
            wake()
        }
    }

    private func takeHandedOver(now: UInt64) {
        let fds = handedOver.withLock { queue -> [Int32] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for fd in fds {
            openConnections.subtract(1, ordering: .relaxed)  // `serve` counts it again
            if draining {
                Glibc.close(fd)
                server.connectionClosed()
            } else {
                serve(fd, now: now)
            }
        }
    }

    /// Closes sockets handed over to a loop that has stopped (called by it, or by a late hander).
    private func closeHandedOver() {
        let fds = handedOver.withLock { queue -> [Int32] in
            defer { queue.removeAll() }
            return queue
        }
        for fd in fds {
            openConnections.subtract(1, ordering: .relaxed)
            Glibc.close(fd)
            server.connectionClosed()
        }
    }

    private enum SpareOutcome {
        case refused, nothingWaiting, unavailable
    }

    /// Frees the spare descriptor to accept one waiting client, answers it 503 and closes it, then takes
    /// the spare again. `unavailable` when there is no spare, or another thread took the descriptor.
    private func refuseWithSpareDescriptor() -> SpareOutcome {
        if spareFD < 0 { spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC) }
        guard spareFD >= 0 else { return .unavailable }
        Glibc.close(spareFD)
        let fd = csystem_accept_nonblocking(listenerFD)
        let acceptError = errno
        if fd >= 0 {
            server.overloadAnswer.withUnsafeBytes { _ = Socket.write(fd, $0) }
            _ = Glibc.shutdown(fd, Int32(SHUT_WR))
            _ = discardInput(fd)  // what has come already, so closing sends no reset for it
            Glibc.close(fd)
            server.connectionRefused()
        }
        spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if fd < 0 && (acceptError == EAGAIN || acceptError == EWOULDBLOCK) {
            return spareFD >= 0 ? .nothingWaiting : .unavailable
        }
        return fd >= 0 && spareFD >= 0 ? .refused : .unavailable
    }

    /// Closes every refused socket still being drained and closes new ones at once for a second.
    private func shedLingering(now: UInt64) {
        noLingeringUntil = now + 1_000_000_000
        for fd in Array(lingering.keys) { endLingering(fd) }
    }

    /// Takes the listener out of this loop's epoll for 100 ms (descriptors may be freed by then).
    private func pauseListening(now: UInt64) {
        guard listenerFD >= 0, listenerPausedUntil == 0 else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, listenerFD, nil)
        listenerPausedUntil = now + 100_000_000
    }

    private func resumeListening() {
        listenerPausedUntil = 0
        if spareFD < 0 { spareFD = open("/dev/null", O_RDONLY | O_CLOEXEC) }
        guard listenerFD >= 0 else { return }
        register(listenerFD, token: Self.listenerToken, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
    }

    /// Stops accepting; the server closes the shared socket once every loop has stopped.
    private func stopListening() {
        guard listenerFD >= 0 else { return }
        if listenerPausedUntil == 0 { epoll_ctl(epollFD, EPOLL_CTL_DEL, listenerFD, nil) }
        listenerPausedUntil = 0
        listenerFD = -1
    }

    // MARK: - Reading

    private func handle(fd: Int32, events: UInt32, now: UInt64) {
        guard let connection = connections[fd] else { return }
        if events & EPOLLOUT.rawValue != 0 {
            let sendingFile = connection.file != nil
            flush(connection, now: now)
            guard connections[fd] === connection else { return }
            // Requests pipelined behind a file answer waited for it to finish.
            if sendingFile && connection.file == nil { process(connection, now: now) }
            guard connections[fd] === connection else { return }
        }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                close(connection)
                return
            }
            read(connection, now: now)
        }
    }

    private func read(_ connection: HTTPConnection, now: UInt64) {
        // At most 1 MiB per turn, then parse: a fast upload (a CRM import) must not pile up in
        // memory ahead of its consumer. epoll is level-triggered, so the rest wakes us again.
        var total = 0
        while !connection.readClosed && total < 1 << 20 {
            let n = readBuffer.withUnsafeMutableBytes { Glibc.read(connection.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if connection.requestStarted == 0 && !connection.inFlight { connection.requestStarted = now }
                connection.input.append(contentsOf: readBuffer[0..<n])
                total += n
                if n < readBuffer.count { break }
            } else if n == 0 {
                connection.readClosed = true
            } else {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close(connection)
                return
            }
        }
        process(connection, now: now)
    }

    /// Parses and dispatches what has arrived, one request at a time.
    private func process(_ connection: HTTPConnection, now: UInt64) {
        while !connection.inFlight && connection.file == nil && connection.stream == nil && !connection.closeAfterFlush
        {
            let event: RequestParser.Event?
            do {
                event = try connection.parser.parse(
                    connection.input, index: &connection.readIndex,
                    body: { head in self.server.bodyHandling(for: head) })
            } catch {
                connection.spool?.discard()
                connection.spool = nil
                refuse(connection, with: server.parseFailureAnswer(error), now: now)
                return
            }
            guard let event else { break }
            switch event {
            case .expectsContinue:
                connection.output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
            case .request(let head, let body):
                connection.inFlight = true
                connection.requestStarted = 0
                connection.bodyStarted = 0
                dispatch(Request(head: head, body: body), on: connection)
            case .bodyChunk(let bytes):
                if connection.spool == nil { connection.spool = SpoolFile() }
                guard let spool = connection.spool, spool.write(bytes) else {
                    connection.spool?.discard()
                    connection.spool = nil
                    refuse(connection, with: server.spoolFailureAnswer, now: now)
                    return
                }
            case .spooledRequest(let head):
                let spool = connection.spool ?? SpoolFile()
                connection.spool = nil
                connection.inFlight = true
                connection.requestStarted = 0
                connection.bodyStarted = 0
                dispatch(Request(head: head, body: [], bodyFile: spool?.finish()), on: connection)
            }
        }
        // The body's clock starts when its head is complete (checked per read, not per byte).
        if connection.bodyStarted == 0 && !connection.inFlight && connection.parser.isReadingBody {
            connection.bodyStarted = now
        }
        connection.compactInput()
        if connection.hasPendingOutput { flush(connection, now: now) }
        guard connections[connection.fd] === connection else { return }
        if connection.readClosed && !connection.inFlight && !connection.hasPendingOutput {
            close(connection)
            return
        }
        // A client pipelining faster than we answer is paused rather than buffered without bound.
        let backlog = connection.input.count - connection.readIndex
        let busy = connection.inFlight || connection.file != nil || connection.stream != nil
        let shouldPause = connection.readClosed || (busy && backlog > server.configuration.limits.maxBodyBytes)
        if shouldPause != connection.readingPaused {
            connection.readingPaused = shouldPause
            updateInterest(connection)
        }
    }

    private func dispatch(_ request: Request, on connection: HTTPConnection) {
        let fd = connection.fd
        let generation = connection.generation
        let server = self.server
        server.requestStarted()
        // Matched once here: the handler's executor depends on its route, and `respond` needs it.
        let match = server.router.match(method: request.method, path: request.path)
        var onLoop = false
        if case .found(let route, _) = match { onLoop = route.runsOnEventLoop }
        let loop: EventLoop? = onLoop ? self : nil
        Task(executorPreference: loop) {
            let answer = await ClientIO.$waiter.withValue(loop) { await server.respond(to: request, match: match) }
            self.complete(
                Completion(
                    fd: fd, generation: generation, bytes: answer.bytes, file: answer.file, stream: answer.stream,
                    keepAlive: answer.keepAlive)
            )
        }
    }

    /// Resets the eventfd after a wake-up (it only says "look at your queues").
    private func consumeWake() {
        var counter: UInt64 = 0
        _ = Glibc.read(wakeFD, &counter, 8)
    }

    private func drainCompletions(now: UInt64) {
        guard !completions.withLock({ $0.isEmpty }) else { return }
        let batch = completions.withLock { queue -> [Completion] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for completion in batch {
            guard let connection = connections[completion.fd], connection.generation == completion.generation else {
                server.releaseRequest()
                completion.stream?.markClosed()
                continue
            }
            server.releaseRequest()
            connection.inFlight = false
            connection.output.append(contentsOf: completion.bytes)
            connection.file = completion.file
            connection.fileOffset = 0
            if let stream = completion.stream {
                // The connection now carries the stream until it ends; it closes after that.
                connection.stream = stream
                if let (pending, finished) = stream.attach(
                    ResponseStream.Target(loop: self, fd: connection.fd, generation: connection.generation))
                {
                    connection.output.append(contentsOf: pending)
                    if finished || draining { endStream(connection, now: now) }
                } else {
                    endStream(connection, now: now)
                }
            } else if !completion.keepAlive || draining {
                connection.closeAfterFlush = true
            }
            connection.lastActivity = now
            // Bytes that came while the handler ran start the next head's clock now, not when they came.
            connection.requestStarted = connection.readIndex < connection.input.count ? now : 0
            flush(connection, now: now)
            if connections[connection.fd] === connection && !connection.closeAfterFlush {
                process(connection, now: now)
            }
        }
    }

    // MARK: - Streams

    private func drainStreamWrites(now: UInt64) {
        guard !streamWrites.withLock({ $0.isEmpty }) else { return }
        let batch = streamWrites.withLock { queue -> [StreamWrite] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        var touched: [HTTPConnection] = []
        for write in batch {
            guard let connection = connections[write.fd], connection.generation == write.generation,
                connection.stream === write.stream, !connection.closeAfterFlush
            else {
                write.stream.markClosed()
                continue
            }
            if write.finish {
                endStream(connection, now: now)
                continue
            }
            // A client that stopped reading is let go rather than buffered for without bound; it
            // resumes from where it got to.
            guard connection.output.count - connection.outputIndex + write.bytes.count <= ResponseStream.maxBacklogBytes
            else {
                close(connection)
                continue
            }
            if !connection.hasPendingOutput { touched.append(connection) }
            connection.output.append(contentsOf: write.bytes)
        }
        // One write per connection for all its chunks of this turn.
        for connection in touched where connections[connection.fd] === connection { flush(connection, now: now) }
    }

    /// Ends a connection's stream: the last chunk, then the connection closes once it is written.
    private func endStream(_ connection: HTTPConnection, now: UInt64) {
        guard let stream = connection.stream, !connection.closeAfterFlush else { return }
        connection.output.append(contentsOf: ResponseStream.lastChunk)
        connection.closeAfterFlush = true
        stream.markClosed()
        flush(connection, now: now)
    }

    // MARK: - Writing

    private func flush(_ connection: HTTPConnection, now: UInt64) {
        while connection.outputIndex < connection.output.count {
            let n = connection.output.withUnsafeBytes { raw in
                Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: raw[connection.outputIndex...]))
            }
            if n < 0 {
                close(connection)
                return
            }
            if n == 0 { break }
            connection.outputIndex += n
            connection.bytesSentSinceStall += n
            connection.lastActivity = now
        }
        if connection.outputIndex == connection.output.count, let file = connection.file {
            guard sendFile(file, on: connection, now: now) else {
                close(connection)
                return
            }
        }
        if !connection.hasPendingOutput {
            connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
            connection.outputIndex = 0
            if connection.closeAfterFlush && !connection.inFlight {
                close(connection, lingering: connection.isRefused)
                return
            }
        }
        if connection.hasPendingOutput != connection.writeInterest {
            connection.writeInterest = connection.hasPendingOutput
            if connection.writeInterest {
                connection.writeStalled = now
                connection.bytesSentSinceStall = 0
            }
            updateInterest(connection)
        }
    }

    /// Sends as much of a file answer as the socket takes; `false` when the connection failed or the
    /// file ended early (the promised Content-Length can no longer be kept).
    private func sendFile(_ file: ResponseFile, on connection: HTTPConnection, now: UInt64) -> Bool {
        while connection.fileOffset < file.length {
            var offset = off_t(connection.fileOffset)
            let n = sendfile(connection.fd, file.descriptor, &offset, file.length - connection.fileOffset)
            if n > 0 {
                connection.fileOffset = Int(offset)
                connection.bytesSentSinceStall += n
                connection.lastActivity = now
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true
            } else {
                return false
            }
        }
        connection.file = nil
        return true
    }

    // MARK: - Bookkeeping

    /// Closes connections past their deadline, once a second: a head due since `requestStarted`, a body
    /// slower than its minimum rate since `bodyStarted`, an answer the client reads slower than that rate
    /// since `writeStalled`, or an idle keep-alive since its last answer. Only here, never per byte.
    private func sweepTimeouts(now: UInt64) {
        let configuration = server.configuration
        let headerLimit = UInt64(configuration.headerTimeoutSeconds) * 1_000_000_000
        let bodyLimit = UInt64(configuration.bodyTimeoutSeconds) * 1_000_000_000
        let nanosecondsPerBodyByte = 1_000_000_000 / UInt64(max(1, configuration.minBodyBytesPerSecond))
        let idleLimit = UInt64(configuration.idleTimeoutSeconds) * 1_000_000_000
        let keepAliveLimit = UInt64(max(1, configuration.streamKeepAliveSeconds)) * 1_000_000_000
        for connection in Array(connections.values) where !connection.inFlight {
            if let stream = connection.stream, !connection.hasPendingOutput {
                // A stream never idles out: a quiet one gets a comment instead.
                if now - connection.lastActivity >= keepAliveLimit {
                    connection.output.append(contentsOf: stream.keepAliveComment)
                    flush(connection, now: now)
                }
            } else if connection.hasPendingOutput {
                let allowance = bodyLimit + UInt64(connection.bytesSentSinceStall) * nanosecondsPerBodyByte
                if connection.writeStalled != 0 && now - connection.writeStalled > allowance { close(connection) }
            } else if connection.bodyStarted != 0 {
                let allowance = bodyLimit + UInt64(connection.parser.bodyBytesRead) * nanosecondsPerBodyByte
                if now - connection.bodyStarted > allowance {
                    refuse(connection, with: server.deadlineAnswer(forBody: true), now: now)
                }
            } else if connection.requestStarted != 0 {
                guard now - connection.requestStarted > headerLimit else { continue }
                if connection.parser.isReadingHead || connection.readIndex < connection.input.count {
                    refuse(connection, with: server.deadlineAnswer(forBody: false), now: now)
                } else {
                    close(connection)  // not a byte since accepted: nobody to answer
                }
            } else if now - connection.lastActivity > idleLimit {
                close(connection)
            }
        }
        for (fd, deadline) in lingering where deadline <= now { endLingering(fd) }
    }

    /// Answers a request that cannot go on (bad, too large, too slow) and closes the connection
    /// gracefully once the answer is sent.
    private func refuse(_ connection: HTTPConnection, with answer: [UInt8], now: UInt64) {
        connection.output.append(contentsOf: answer)
        connection.closeAfterFlush = true
        connection.isRefused = true
        flush(connection, now: now)
    }

    /// Closes a refused socket gracefully once its answer is written: our side is shut down (the client
    /// reads the answer, then end of stream) and what the client still sends is read and dropped until
    /// it closes, at most `lingerSeconds`. Closed at once instead, a socket with unread input sends a
    /// reset, which fails a client still sending its request before it ever reads the answer.
    private func linger(_ fd: Int32, registered: Bool, now: UInt64) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        // Read first in any case: a close with nothing unread sends no reset.
        let clientOpen = discardInput(fd)
        guard clientOpen, !draining, now >= noLingeringUntil, lingering.count < Self.maxLingering else {
            if registered { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
            Glibc.close(fd)
            return
        }
        lingering[fd] = now + UInt64(server.configuration.lingerSeconds) * 1_000_000_000
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.u64 = Self.lingerBit | UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epollFD, registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }

    private func drainLingering(_ fd: Int32, events: UInt32) {
        guard lingering[fd] != nil else { return }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 || !discardInput(fd) { endLingering(fd) }
    }

    /// Reads and drops what a refused client sent (at most 1 MiB a turn); false once it closed or failed.
    private func discardInput(_ fd: Int32) -> Bool {
        var total = 0
        while total < 1 << 20 {
            let n = readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                total += n
            } else if n == 0 {
                return false
            } else if errno != EINTR {
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
        }
        return true
    }

    private func endLingering(_ fd: Int32) {
        guard lingering.removeValue(forKey: fd) != nil else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        Glibc.close(fd)
    }

    private func register(_ fd: Int32, token: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    private func updateInterest(_ connection: HTTPConnection) {
        var event = epoll_event()
        var mask: UInt32 = 0
        if !connection.readingPaused { mask |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if connection.writeInterest { mask |= EPOLLOUT.rawValue }
        event.events = mask
        event.data.u64 = UInt64(UInt32(bitPattern: connection.fd))
        epoll_ctl(epollFD, EPOLL_CTL_MOD, connection.fd, &event)
    }

    /// Ends a connection and frees its slot; `lingering` closes it gracefully (see `linger`).
    private func close(_ connection: HTTPConnection, lingering: Bool = false) {
        guard connections[connection.fd] === connection else { return }
        connection.spool?.discard()
        connection.spool = nil
        if let stream = connection.stream {
            connection.stream = nil
            stream.markClosed()
        }
        connections[connection.fd] = nil
        openConnections.subtract(1, ordering: .relaxed)
        if lingering && !connection.readClosed {
            linger(connection.fd, registered: true, now: Monotonic.nanoseconds())
        } else {
            epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
            Glibc.close(connection.fd)
        }
        server.connectionClosed()
    }
}

extension EventLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wasEmpty = jobs.withLock { queue in
            queue.append(job)
            return queue.count == 1
        }
        if wasEmpty && !onLoopThread { wake() }
    }
}

extension EventLoop: ReadinessWaiter {
    var isCurrentThread: Bool { onLoopThread }

    /// Registers the socket one-shot in this loop's epoll; the registration stays (disarmed) after it
    /// fires and is re-armed by the next wait, and the kernel drops it when the socket is closed.
    func waitReadable(_ fd: Int32, deadline: UInt64) async -> Bool {
        guard onLoopThread else {
            // Not ours to watch from here: wait the plain way (the client only calls from the loop).
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let now = Monotonic.nanoseconds()
            return deadline > now
                && poll(&descriptor, 1, Int32(min(UInt64(Int32.max), (deadline - now) / 1_000_000))) > 0
        }
        return await withCheckedContinuation { continuation in
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
            event.data.u64 = Self.clientWaitBit | UInt64(UInt32(bitPattern: fd))
            if epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) != 0 && epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) != 0
            {
                continuation.resume(returning: false)
                return
            }
            readWaits[fd] = ReadWait(continuation: continuation, deadline: deadline)
        }
    }
}
