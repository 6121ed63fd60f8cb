import ConciergeModels
import Dispatch
import Foundation
import HTTPServer
import Storage

extension ServiceRuntime {
    /// `GET /v1/admin/backup`: a consistent copy of the live database, taken with SQLite's online
    /// backup API while writers go on, and streamed as one self-contained SQLite file.
    ///
    /// The copy is written beside the database (same volume, so the space is there), unlinked as soon
    /// as it is open, and gone when the answer has been sent or the client went away.
    static func backupResponse(db: Database, service: String, databasePath: String) async throws -> Response {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        let path = "\(folder)/.\(service)-backup-\(UUID().uuidString).sqlite"
        let file: ResponseFile = try await withCheckedThrowingContinuation { continuation in
            // Seconds for a large database: on its own thread, not one of the few the handlers share.
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        defer { unlink(path) }
                        do {
                            try db.backup(to: path)
                            return try ResponseFile(path: path)
                        } catch {
                            throw Problem(status: 503, title: "Backup failed", detail: "\(error)")
                        }
                    })
            }
        }
        var response = Response.file(file, contentType: "application/vnd.sqlite3")
        response.headers.append(("Content-Disposition", #"attachment; filename="\#(service).sqlite""#))
        response.headers.append(("Cache-Control", "no-store"))
        return response
    }
}
