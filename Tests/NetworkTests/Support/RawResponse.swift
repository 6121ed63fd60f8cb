import Foundation

/// One HTTP answer as read off a raw socket. Our server always frames bodies with Content-Length.
struct RawResponse: Sendable {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name == name.lowercased() }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Parses the first answer in `bytes`; `nil` while incomplete. Returns it and the bytes it used.
    static func parse(_ bytes: [UInt8], bodyless: Bool = false) -> (RawResponse, Int)? {
        guard let headEnd = bytes.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let lines = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length =
            bodyless || (100..<200).contains(status)
            ? 0 : Int(headers.first { $0.name == "content-length" }?.value ?? "0") ?? 0
        let end = headEnd.upperBound + length
        guard bytes.count >= end else { return nil }
        return (RawResponse(status: status, headers: headers, body: Array(bytes[headEnd.upperBound..<end])), end)
    }
}
