import ConciergeModels
import Foundation
import Glibc

extension HTTPClient {
    /// Sends `request` on a connection of its own and streams a 2xx answer's body (framed by
    /// Content-Length) into a new file at `path`, never holding it in memory; the returned response
    /// then has an empty body. Any other answer comes back whole, and no file is made.
    /// - Parameter idleTimeout: seconds the exchange may go without progress, not its total length.
    public func download(_ request: ClientRequest, to path: String, idleTimeout: Double) async throws(HTTPClientError)
        -> ClientResponse
    {
        var request = request
        request.headers.append(("Connection", "close"))
        if let requestID = RequestTrace.requestID { request.headers.append(("X-Request-ID", requestID)) }
        let prepared = request
        let result: Result<ClientResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            workers.run {
                continuation.resume(
                    returning: Result { () throws(HTTPClientError) in
                        try self.performDownload(prepared, to: path, idleTimeout: idleTimeout)
                    })
            }
        }
        return try result.get()
    }

    private func performDownload(_ request: ClientRequest, to path: String, idleTimeout: Double) throws(HTTPClientError)
        -> ClientResponse
    {
        let endpoint = try Endpoint(request.url)
        let patience = UInt64(max(0.001, idleTimeout) * 1e9)
        let connection = try ClientConnection.open(
            endpoint, trusting: configuration.trustedCAFile, policy: configuration.outboundPolicy,
            deadline: ClientClock.now() + min(patience, UInt64(configuration.connectTimeout * 1e9)))
        try connection.writeAll(
            Self.serializeHead(request, endpoint: endpoint) + request.body, deadline: ClientClock.now() + patience)
        let reader = ResponseReader(maxBodyBytes: configuration.maxResponseBytes, isHead: false)
        var buffer: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            guard try connection.readSome(into: &buffer, deadline: ClientClock.now() + patience) > 0 else {
                throw .connectionClosed
            }
            headEnd = reader.find(buffer, [13, 10, 13, 10], from: 0)
            if headEnd == nil && buffer.count > 64 * 1024 { throw .malformedResponse("header block too large") }
        }
        let (status, headers, _) = try reader.parseHead(buffer[0..<headEnd!])
        let lengthText = headers.first { $0.name == "content-length" }?.value
        guard (200..<300).contains(status), let lengthText else {
            // Not a file: read the (small) answer whole, as `send` would.
            while true {
                if let (response, _, _) = try reader.parse(buffer) { return response }
                guard try connection.readSome(into: &buffer, deadline: ClientClock.now() + patience) > 0 else {
                    guard let response = try reader.finishAtEOF(buffer) else { throw .connectionClosed }
                    return response
                }
            }
        }
        guard let length = Int(lengthText), length >= 0 else { throw .malformedResponse("bad Content-Length") }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotWrite("\(path): \(String(cString: strerror(errno)))") }
        var complete = false
        defer {
            close(fd)
            if !complete { unlink(path) }
        }
        var pending = Array(buffer[(headEnd! + 4)...])
        var written = 0
        while true {
            let take = min(pending.count, length - written)
            try Self.writeAll(pending[0..<take], to: fd, path: path)
            written += take
            if written == length { break }
            pending.removeAll(keepingCapacity: true)
            guard try connection.readSome(into: &pending, deadline: ClientClock.now() + patience) > 0 else {
                throw .connectionClosed
            }
        }
        guard fsync(fd) == 0 else { throw .cannotWrite("\(path): \(String(cString: strerror(errno)))") }
        complete = true
        return ClientResponse(status: status, headers: headers, body: [])
    }

    private static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32, path: String) throws(HTTPClientError) {
        let failed: Int32? = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return errno }
                offset += n
            }
            return nil
        }
        if let failed { throw .cannotWrite("\(path): \(String(cString: strerror(failed)))") }
    }
}
