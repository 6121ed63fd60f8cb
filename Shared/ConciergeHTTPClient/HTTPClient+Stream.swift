import ConciergeModels
import Foundation
import Glibc
import Synchronization

/// An answer whose body arrives over time (Server-Sent Events, say): its head at once, its body as
/// an async sequence of byte chunks, de-chunked. Ending the sequence early (breaking out of the loop,
/// or cancelling the task) closes the connection.
public struct StreamingResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: AsyncThrowingStream<[UInt8], any Error>
    let closer: @Sendable () -> Void

    /// Closes the connection now; the body ends.
    public func close() { closer() }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }
}

extension HTTPClient {
    /// Sends `request` on a connection of its own and returns the answer once its head arrives; the
    /// body follows as it comes (for a non-2xx answer, its error document).
    /// - Parameter idleTimeout: seconds the body may go without a byte before the sequence ends with
    ///   `HTTPClientError.timedOut` (a server's keep-alive comments count).
    public func stream(_ request: ClientRequest, idleTimeout: Double) async throws(HTTPClientError)
        -> StreamingResponse
    {
        var request = request
        request.headers.append(("Connection", "close"))
        if let requestID = RequestTrace.requestID { request.headers.append(("X-Request-ID", requestID)) }
        let endpoint = try Endpoint(request.url)
        let patience = UInt64(max(0.001, idleTimeout) * 1e9)
        let head = Self.serializeHead(request, endpoint: endpoint) + request.body
        let trusted = configuration.trustedCAFile
        let connectTimeout = configuration.connectTimeout
        let reader = ResponseReader(maxBodyBytes: configuration.maxResponseBytes, isHead: false)
        // The head is read on a thread of its own: the body's reading continues there, for as long as
        // the stream lasts, so it must not hold one of the shared workers.
        let opened: Result<(ClientConnection, Int, [(name: String, value: String)], [UInt8]), HTTPClientError> =
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(
                        returning: Result { () throws(HTTPClientError) in
                            let connection = try ClientConnection.open(
                                endpoint, trusting: trusted,
                                deadline: ClientClock.now() + min(patience, UInt64(connectTimeout * 1e9)))
                            try connection.writeAll(head, deadline: ClientClock.now() + patience)
                            var buffer: [UInt8] = []
                            while true {
                                if let end = reader.find(buffer, [13, 10, 13, 10], from: 0) {
                                    let (status, headers, _) = try reader.parseHead(buffer[0..<end])
                                    return (connection, status, headers, Array(buffer[(end + 4)...]))
                                }
                                if buffer.count > 64 * 1024 { throw .malformedResponse("header block too large") }
                                guard try connection.readSome(into: &buffer, deadline: ClientClock.now() + patience) > 0
                                else { throw .connectionClosed }
                            }
                        })
                }
            }
        let (connection, status, headers, rest) = try opened.get()
        let chunked = headers.contains { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
        let length = headers.first { $0.name == "content-length" }.flatMap { Int($0.value) }
        let closed = Atomic<Bool>(false)
        // Wakes the reading thread, which then lets the connection go.
        let closer: @Sendable () -> Void = {
            if !closed.exchange(true, ordering: .acquiringAndReleasing) { shutdown(connection.fd, Int32(SHUT_RDWR)) }
        }
        let body = AsyncThrowingStream<[UInt8], any Error> { continuation in
            continuation.onTermination = { _ in closer() }
            Thread.detachNewThread {
                var decoder = ChunkDecoder(chunked: chunked, remaining: length)
                var input = rest
                do {
                    while true {
                        let (bytes, done) = try decoder.take(&input)
                        if !bytes.isEmpty { continuation.yield(bytes) }
                        if done { break }
                        guard try connection.readSome(into: &input, deadline: ClientClock.now() + patience) > 0 else {
                            // Close-delimited bodies end here; a chunked one must not.
                            if chunked || (length ?? 0) > 0 { throw HTTPClientError.connectionClosed }
                            break
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: closed.load(ordering: .acquiring) ? nil : error)
                }
                _ = connection  // kept until the body is done; closed when released
            }
        }
        return StreamingResponse(status: status, headers: headers, body: body, closer: closer)
    }
}

/// Takes a body's bytes apart as they arrive: chunked (RFC 9112 §7.1), by Content-Length, or until
/// the connection closes.
struct ChunkDecoder {
    let chunked: Bool
    /// Bytes still due of a Content-Length body, or of the current chunk.
    var remaining: Int?
    private var inChunk = 0
    private var sawLastChunk = false

    init(chunked: Bool, remaining: Int?) {
        self.chunked = chunked
        self.remaining = chunked ? nil : remaining
    }

    /// The body bytes `input` holds now (removed from it), and whether the body is complete.
    mutating func take(_ input: inout [UInt8]) throws -> (bytes: [UInt8], done: Bool) {
        guard chunked else {
            guard let left = remaining else {
                defer { input.removeAll() }
                return (input, false)
            }
            let take = min(left, input.count)
            let bytes = Array(input[0..<take])
            input.removeFirst(take)
            remaining = left - take
            return (bytes, remaining == 0)
        }
        var out: [UInt8] = []
        while !sawLastChunk {
            if inChunk > 0 {
                let take = min(inChunk, input.count)
                out.append(contentsOf: input[0..<take])
                input.removeFirst(take)
                inChunk -= take
                if inChunk > 0 { break }
                // The chunk's closing CRLF.
                guard input.count >= 2 else {
                    inChunk = -2
                    break
                }
                input.removeFirst(2)
                continue
            }
            if inChunk == -2 {
                guard input.count >= 2 else { break }
                input.removeFirst(2)
                inChunk = 0
                continue
            }
            guard let lineEnd = Self.lineEnd(input) else {
                if input.count > 1024 { throw HTTPClientError.malformedResponse("chunk size line too long") }
                break
            }
            let sizeText = String(decoding: input[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw HTTPClientError.malformedResponse("bad chunk size")
            }
            input.removeFirst(lineEnd + 2)
            if size == 0 {
                sawLastChunk = true
            } else {
                inChunk = size
            }
        }
        return (out, sawLastChunk)
    }

    private static func lineEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in 0..<(bytes.count - 1) where bytes[index] == 13 && bytes[index + 1] == 10 { return index }
        return nil
    }
}
