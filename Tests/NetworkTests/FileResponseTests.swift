import ConciergeHTTPClient
import ConciergeModels
import Foundation
import HTTPServer
import Testing

/// File answers (`Response.file`), sent from disk by the event loop, and `HTTPClient.download`.
@Suite struct FileResponseTests {
    /// 5 MiB of a pattern that shows any reordered or repeated block.
    private static let content: [UInt8] = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }

    private static func fileRouter(folder: URL) throws -> Router {
        let path = folder.appendingPathComponent("big.bin").path
        try Data(content).write(to: URL(fileURLWithPath: path))
        let router = Router()
        router.get("/file", access: .open) { _, _ in
            .file(try ResponseFile(path: path), contentType: "application/octet-stream")
        }
        router.get("/once", access: .open) { _, _ in
            // A private copy, unlinked as soon as it is open: the bytes live as long as the answer.
            let copy = folder.appendingPathComponent("once-\(UUID().uuidString)").path
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            return .file(try ResponseFile(path: copy, removingPath: true), contentType: "application/octet-stream")
        }
        router.get("/ping", access: .open) { _, _ in .text("pong") }
        return router
    }

    private static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("concierge-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func downloadStreamsTheWholeFileIntoANewFile() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withServer(try Self.fileRouter(folder: folder)) { _, port in
            let target = folder.appendingPathComponent("downloaded").path
            let response = try await HTTPClient.shared.download(
                ClientRequest(method: "GET", url: "http://127.0.0.1:\(port)/once"), to: target, idleTimeout: 10)
            #expect(response.status == 200)
            #expect(response.header("content-length") == String(Self.content.count))
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: target))) == Self.content)
            // The unlinked copy left nothing behind.
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("once-") }
            #expect(left.isEmpty)
        }
    }

    @Test func downloadOfAnErrorAnswerReturnsItAndMakesNoFile() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withServer(try Self.fileRouter(folder: folder)) { _, port in
            let target = folder.appendingPathComponent("nothing").path
            let response = try await HTTPClient.shared.download(
                ClientRequest(method: "GET", url: "http://127.0.0.1:\(port)/missing"), to: target, idleTimeout: 10)
            #expect(response.status == 404)
            #expect(response.header("content-type") == "application/problem+json")
            #expect(!FileManager.default.fileExists(atPath: target))
        }
    }

    @Test func pipelinedRequestsBehindAFileAreAnsweredAfterIt() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withServer(try Self.fileRouter(folder: folder)) { _, port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "GET /file HTTP/1.1\r\nHost: t\r\n\r\nHEAD /file HTTP/1.1\r\nHost: t\r\n\r\nGET /ping HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            let file = try await connection.response()
            #expect(file.status == 200)
            #expect(file.body == Self.content)
            let head = try await connection.response(bodyless: true)
            #expect(head.status == 200)
            #expect(head.header("content-length") == String(Self.content.count))
            #expect(head.body.isEmpty)
            #expect(try await connection.response().bodyText == "pong")
        }
    }
}
