import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// A request body nested as deep as JSON readers allow (512 levels), or deeper, is answered with a
/// problem and never takes a service down: reading and decoding recurse once per level on the
/// thread that serves the request.
@Suite struct NestedBodyTests {
    /// `{"key": {"a": {"a": … }}}` (objects: each level costs the readers more than an array's).
    static func nested(_ depth: Int, inside key: String) -> [UInt8] {
        Array(
            ("{\"\(key)\":" + String(repeating: "{\"a\":", count: depth - 2) + "{}"
                + String(repeating: "}", count: depth - 1)).utf8)
    }

    @Test(arguments: [
        (ServiceKind.routing, "/v1/route", "message"), (.conversations, "/v1/inbound", "body"),
        (.contacts, "/v1/contacts", "name"),
    ])
    func deeplyNestedBodiesAreRefusedAndTheServiceLivesOn(kind: ServiceKind, path: String, key: String) async throws {
        try await withServices([kind]) { cluster in
            let client = cluster.raw(kind, token: cluster.token(.administrator))
            for depth in [400, 511, 512, 513, 5_000] {
                let response = try await client.raw("POST", path, body: Self.nested(depth, inside: key))
                #expect(response.status == 400, "\(kind.rawValue) \(path) nested \(depth): \(response.status)")
            }
            let service = try cluster.service(kind)
            #expect(service.isRunning, "\(kind.rawValue) is still running")
            let ready = try await cluster.raw(kind).raw("GET", "/readyz")
            #expect(ready.status == 200)
        }
    }
}
