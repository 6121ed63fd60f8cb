/// Request size limits of SPEC §2, applied while parsing.
public struct ParserLimits: Sendable {
    /// Largest request line plus headers in bytes; default 16 KiB (SPEC §2). Past it: 431.
    public var maxHeadBytes = 16 * 1024
    /// Largest request target in bytes; default 16 KiB, as SPEC §2 bounds only the request line and
    /// headers together (`maxHeadBytes`). Past it, or a request line alone past `maxHeadBytes`: 414.
    public var maxURLBytes = 16 * 1024
    /// Most header fields; default 100 (SPEC §2). Past it: 431.
    public var maxHeaderCount = 100
    /// Largest request body in bytes; default 1 MiB (SPEC §2). Past it: 413.
    public var maxBodyBytes = 1024 * 1024
    /// Longest chunk-size line (with extensions) in bytes; default 1 KiB.
    public var maxChunkLineBytes = 1024
    /// Largest trailer section of a chunked body (its lines after the last chunk) in bytes; default
    /// 16 KiB, as for the head. Past it: 431.
    public var maxTrailerBytes = 16 * 1024

    public init() {}
}
