import ConciergeJSON
import Foundation
import Testing

@testable import ServiceRuntime

/// The served OpenAPI document names where the service is reached, and is otherwise the file as written.
@Suite struct OpenAPIDocumentTests {
    static let file = """
        {
          "openapi": "3.1.0",
          "info": {"title": "t", "description": "a \\"servers\\": [] lookalike { in a string ["},
          "servers": [
            {"url": "http://127.0.0.1:8081", "description": "default"}
          ],
          "paths": {"/x": {"get": {"servers": [{"url": "http://elsewhere"}]}}}
        }
        """

    func servers(_ bytes: [UInt8]) throws -> [String] {
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        return (document.objectValue?["servers"]?.arrayValue ?? []).compactMap {
            $0.objectValue?["url"]?.stringValue
        }
    }

    @Test func serversNameTheRequestsHostAndTheListeningAddressTheRestIsUnchanged() throws {
        let document = OpenAPIDocument(Array(Self.file.utf8))
        let served = document.served(requestHost: "concierge.internal:9001", host: "127.0.0.1", port: 9001)
        #expect(try servers(served) == ["http://concierge.internal:9001", "http://127.0.0.1:9001"])
        let text = String(decoding: served, as: UTF8.self)
        #expect(
            text.hasPrefix(
                "{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\"title\": \"t\", \"description\": \"a \\\"servers"))
        #expect(text.hasSuffix("\"paths\": {\"/x\": {\"get\": {\"servers\": [{\"url\": \"http://elsewhere\"}]}}}\n}"))
        // The same address twice is named once; a wildcard bind address is named only through Host.
        #expect(
            try servers(document.served(requestHost: "127.0.0.1:8081", host: "127.0.0.1", port: 8081)) == [
                "http://127.0.0.1:8081"
            ])
        #expect(
            try servers(document.served(requestHost: "localhost:8081", host: "0.0.0.0", port: 8081)) == [
                "http://localhost:8081"
            ])
        #expect(
            try servers(document.served(requestHost: nil, host: "0.0.0.0", port: 8081)) == ["http://127.0.0.1:8081"])
    }

    @Test func aDocumentWithoutServersGetsThem() throws {
        let served = OpenAPIDocument(Array(#"{"openapi":"3.1.0","paths":{}}"#.utf8))
            .served(requestHost: "h:1", host: "127.0.0.1", port: 1)
        #expect(try servers(served) == ["http://h:1", "http://127.0.0.1:1"])
        let empty = OpenAPIDocument(Array("{ }".utf8)).served(requestHost: nil, host: "127.0.0.1", port: 2)
        #expect(try servers(empty) == ["http://127.0.0.1:2"])
    }

    /// Every service's checked-in document keeps its bytes but for `servers` when served.
    @Test(arguments: ["concierge-contacts", "concierge-conversations", "concierge-routing", "concierge-crm-lookup"])
    func theServicesDocumentsAreServedWhole(_ service: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Services/\(service)/openapi.json")
        let file = try Data(contentsOf: path)
        let served = OpenAPIDocument(Array(file)).served(requestHost: "h:7", host: "127.0.0.1", port: 7)
        var original = try JSONDecoder().decode(JSONValue.self, from: file).objectValue ?? [:]
        var answered = try JSONDecoder().decode(JSONValue.self, from: Data(served)).objectValue ?? [:]
        #expect(try servers(served) == ["http://h:7", "http://127.0.0.1:7"])
        original["servers"] = nil
        answered["servers"] = nil
        #expect(original == answered)
    }

    /// The webhook routes every service has (`WebhookRoutes`) are in its document, and so is the
    /// delivery itself, with the Standard Webhooks headers. Routing's document is being written.
    @Test(arguments: ["concierge-contacts", "concierge-conversations", "concierge-crm-lookup"])
    func theWebhookRoutesAndTheirDeliveryAreDocumented(_ service: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Services/\(service)/openapi.json")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: path)).objectValue ?? [:]
        let paths = document["paths"]?.objectValue ?? [:]
        let expected = [
            "/v1/webhooks": ["get", "post"], "/v1/webhooks/{id}": ["get", "patch", "delete"],
            "/v1/webhooks/{id}/rotate-secret": ["post"], "/v1/webhooks/{id}/deliveries": ["get"],
            "/v1/webhooks/{id}/replay": ["post"],
        ]
        for (route, methods) in expected {
            for method in methods {
                #expect(paths[route]?.objectValue?[method] != nil, "\(service): \(method) \(route)")
            }
        }
        let delivery = document["webhooks"]?.objectValue?["event"]?.objectValue?["post"]?.objectValue
        let headers = delivery?["parameters"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? []
        #expect(Set(headers).isSuperset(of: ["webhook-id", "webhook-timestamp", "webhook-signature"]), "\(service)")
    }
}
