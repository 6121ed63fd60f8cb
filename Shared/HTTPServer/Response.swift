import ConciergeModels
import Glibc

/// What a handler answers: status, headers and body bytes (or a file sent from disk).
public struct Response: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// When set, the body is this file's bytes, streamed by the event loop; `body` is ignored.
    public var file: ResponseFile?
    /// When set, the body is written over time by this stream (chunked); `body` is ignored.
    public var stream: ResponseStream?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: try JSONCoding.encode(value))
    }

    /// An already-encoded JSON answer.
    public static func json(bytes: [UInt8], status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: bytes)
    }

    public static func text(_ text: String, contentType: String = "text/plain; charset=utf-8", status: Int = 200)
        -> Response
    {
        Response(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    public static func noContent() -> Response { Response(status: 204) }

    /// A file answer, streamed from disk without holding it in memory.
    public static func file(_ file: ResponseFile, contentType: String, status: Int = 200) -> Response {
        var response = Response(status: status, headers: [("Content-Type", contentType)])
        response.file = file
        return response
    }

    /// An answer whose body `stream` writes over time; the connection closes when it ends.
    public static func stream(_ stream: ResponseStream, contentType: String, status: Int = 200) -> Response {
        var response = Response(
            status: status, headers: [("Content-Type", contentType), ("Cache-Control", "no-store")])
        response.stream = stream
        return response
    }

    /// An RFC 9457 problem answer.
    public static func problem(_ problem: Problem) -> Response {
        let body = (try? JSONCoding.encode(problem)) ?? Array(#"{"title":"Error"}"#.utf8)
        return Response(status: problem.status, headers: [("Content-Type", "application/problem+json")], body: body)
    }

    /// Serialises status line, headers and body for the wire.
    func serialized(requestID: String?, keepAlive: Bool, includeBody: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + body.count)
        out.append(contentsOf: "HTTP/1.1 \(status) \(Self.reason(status))\r\n".utf8)
        for (name, value) in headers {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if let requestID {
            out.append(contentsOf: "X-Request-ID: ".utf8)
            out.append(contentsOf: requestID.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if stream != nil {
            // The stream is the connection's last answer: it ends the connection when it ends.
            out.append(contentsOf: "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)
            return out
        }
        out.append(contentsOf: "Content-Length: \(file?.length ?? body.count)\r\n".utf8)
        out.append(contentsOf: (keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n").utf8)
        if includeBody && file == nil { out.append(contentsOf: body) }
        return out
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}

/// An open file to send as a response body. The descriptor closes when the last reference goes,
/// so a file unlinked after opening (a temporary snapshot) disappears once it has been sent.
public final class ResponseFile: Sendable {
    let descriptor: Int32
    public let length: Int

    /// Opens `path` for reading; with `removingPath` the name is unlinked at once and the bytes live
    /// only as long as this object.
    public init(path: String, removingPath: Bool = false) throws(ResponseFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ResponseFileError(path: path, code: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw ResponseFileError(path: path, code: code)
        }
        if removingPath { unlink(path) }
        descriptor = fd
        length = Int(info.st_size)
    }

    deinit { close(descriptor) }
}

public struct ResponseFileError: Error, CustomStringConvertible {
    public let path: String
    public let code: Int32
    public var description: String { "cannot open \(path): \(String(cString: strerror(code)))" }
}
