import ConciergeJSON
import Foundation
import Testing

@testable import ConversationsService

/// The OpenAPI document describes the events the service tells and the routes they brought.
@Suite struct ConversationDocumentTests {
    static func document() throws -> [String: JSONValue] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Services/concierge-conversations/openapi.json")
        return try #require(try JSONParser.parse(Array(try Data(contentsOf: path))).objectValue)
    }

    @Test func theDocumentListsEveryEventTypeTheServiceTells() throws {
        let schemas = try Self.document()["components"]?.objectValue?["schemas"]?.objectValue
        let listed = schemas?["ConversationEventType"]?.objectValue?["enum"]?.arrayValue?.compactMap(\.stringValue)
        #expect(listed == ConversationEvent.allCases.map(\.rawValue))
        #expect(schemas?["Message"]?.objectValue?["properties"]?.objectValue?["delivery"] != nil)
    }

    @Test func theDocumentDescribesTheFeedAndTheDeliveryReport() throws {
        let paths = try #require(try Self.document()["paths"]?.objectValue)
        #expect(paths["/v1/events"]?.objectValue?["get"] != nil)
        #expect(paths["/v1/messages/{id}/delivery"]?.objectValue?["post"] != nil)
    }
}
