/// A parsed request line and header block.
public struct RequestHead: Sendable {
    public var method: String
    /// The raw request target (`/v1/contacts?email=a%40b.c`).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Header fields in arrival order, names lower-cased.
    public var headers: [(name: String, value: String)]

    public func header(_ name: String) -> String? {
        for field in headers where field.name == name { return field.value }
        return nil
    }

    /// Whether the client wants the connection kept open after this exchange.
    public var keepAlive: Bool {
        let connection = header("connection")?.lowercased()
        if minorVersion == 0 { return connection?.contains("keep-alive") ?? false }
        return !(connection?.contains("close") ?? false)
    }
}
