import ConciergeModels

/// An outgoing request to an `http://` or `https://` URL.
public struct ClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An answer: status, headers (names lower-cased) and the whole body.
public struct ClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        for field in headers where field.name == lower { return field.value }
        return nil
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Scheme, host, port and path of a URL, parsed once.
struct Endpoint: Hashable, Sendable {
    /// `https`: the connection runs TLS (default port 443, else 80).
    let isSecure: Bool
    let host: String
    let port: Int
    let pathAndQuery: String

    /// Connections are pooled by scheme, host and port: an http connection never serves https.
    var poolKey: String { isSecure ? "https://\(host):\(port)" : "\(host):\(port)" }

    init(_ url: String) throws(HTTPClientError) {
        // Plain string scanning: this runs for every outgoing call, and Foundation's `range(of:)`
        // goes through NSString.
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { throw .invalidURL(url) }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(scheme) }
        isSecure = scheme == "https"
        let rest = url[url.index(colon, offsetBy: 3)...]
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty, !authority.contains("@") else { throw .invalidURL(url) }
        if let colon = authority.lastIndex(of: ":"), !authority.hasPrefix("[") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw .invalidURL(url)
            }
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = isSecure ? 443 : 80
        }
        guard !host.isEmpty else { throw .invalidURL(url) }
        pathAndQuery = path
    }
}
