import ConciergeModels
import Foundation

/// A complete HTTP request as handlers see it.
public struct Request: Sendable {
    public let head: RequestHead
    public let body: [UInt8]
    /// For routes that stream their body: the file it was spooled to (deleted after the answer).
    public let bodyFile: String?
    /// The path without the query, percent-decoding left to the router per segment.
    public let path: Substring
    private let rawQuery: Substring?

    public init(head: RequestHead, body: [UInt8], bodyFile: String? = nil) {
        self.head = head
        self.body = body
        self.bodyFile = bodyFile
        if let mark = head.target.firstIndex(of: "?") {
            path = head.target[..<mark]
            rawQuery = head.target[head.target.index(after: mark)...]
        } else {
            path = head.target[...]
            rawQuery = nil
        }
    }

    public var method: String { head.method }

    public func header(_ name: String) -> String? { head.header(name.lowercased()) }

    /// Query parameters, percent-decoded, `+` as space; the last value wins for a repeated name.
    public var query: [String: String] {
        guard let rawQuery, !rawQuery.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in rawQuery.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = URLCoding.decodeQueryComponent(parts[0]) else { continue }
            let value = parts.count > 1 ? URLCoding.decodeQueryComponent(parts[1]) ?? "" : ""
            result[name] = value
        }
        return result
    }

    /// 400 naming the parameter when a query name or value is not valid percent-encoding (`%zz`, a lone
    /// `%`, bytes that are not UTF-8): read as absent, such a filter would widen a search to everything.
    /// The server checks every routed request, so `query` only ever sees well-formed text.
    func checkQueryEncoding() throws {
        guard let rawQuery, !rawQuery.isEmpty else { return }
        for pair in rawQuery.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = URLCoding.decodeQueryComponent(parts[0]) else {
                throw Problem.badRequest("A query parameter's name is not valid percent-encoded UTF-8.")
            }
            if parts.count > 1, URLCoding.decodeQueryComponent(parts[1]) == nil {
                // The name is echoed only when it is short printable ASCII, as parameter names are.
                let field =
                    name.utf8.count <= 100 && name.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) ? name : "query"
                throw Problem.badRequest("Query parameter \(field) is not valid percent-encoded UTF-8.", field: field)
            }
        }
    }

    /// Decodes the JSON body: 415 for another content type, 400 naming the field for bad JSON.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard let contentType = header("content-type"), Self.isJSON(contentType) else {
            throw Problem(
                status: 415, title: "Unsupported media type",
                detail: "Send the body as Content-Type: application/json.")
        }
        return try JSONCoding.decode(type, from: body)
    }

    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces.lowercased() }
        return mediaType == "application/json" || (mediaType?.hasSuffix("+json") ?? false)
    }
}
