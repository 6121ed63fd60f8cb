import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// Where the OpenAPI documents say a field takes `null` (its `type` includes it), the service takes it
/// with the meaning they give; where they do not, it is refused.
@Suite struct DocumentedNullsTests {
    static func json(_ response: ClientResponse) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:]
    }

    /// The `type` list of a property in a served document's schema.
    static func types(_ document: [String: Any], _ schema: String, _ property: String) -> [String] {
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let properties = (schemas?[schema] as? [String: Any])?["properties"] as? [String: Any]
        let node = properties?[property] as? [String: Any]
        if let list = node?["type"] as? [String] { return list }
        if let one = node?["type"] as? String { return [one] }
        let choices = (node?["oneOf"] as? [[String: Any]]) ?? []
        return choices.compactMap { $0["type"] as? String } + (choices.contains { $0["$ref"] != nil } ? ["$ref"] : [])
    }

    @Test func nullsAreTakenWhereTheDocumentsSayAndRefusedElsewhere() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let routing = cluster.raw(.routing, token: cluster.token(.administrator))
            let document = Self.json(try await cluster.raw(.routing).raw("GET", "/openapi.json"))
            let kit = ConversationKit(cluster)
            let (support, ada) = try await kit.desk()

            for field in ["name", "email", "role", "inboxIds", "heroInboxId", "capacity", "availability"] {
                #expect(Self.types(document, "AgentPatch", field).contains("null"), "AgentPatch.\(field)")
            }
            let patched = try await routing.raw(
                "PATCH", "/v1/agents/\(ada.id)",
                body: Array(
                    #"{"name":null,"email":null,"role":null,"inboxIds":null,"heroInboxId":null,"capacity":{"email":null},"availability":null}"#
                        .utf8))
            #expect(patched.status == 200, "\(String(decoding: patched.body, as: UTF8.self))")
            #expect(Self.json(patched)["name"] as? String == ada.name)
            #expect(((Self.json(patched)["capacity"] as? [String: Any])?["email"] as? Int) == ada.capacity.email)

            for field in ["name", "senderName", "signature", "defaultFor", "strategy"] {
                #expect(Self.types(document, "InboxPatch", field).contains("null"), "InboxPatch.\(field)")
            }
            let inbox = try await routing.raw(
                "PATCH", "/v1/inboxes/\(support.id)",
                body: Array(#"{"name":null,"senderName":null,"signature":null,"defaultFor":null,"strategy":null}"#.utf8)
            )
            #expect(inbox.status == 200)
            #expect(Self.json(inbox)["signature"] as? String == support.signature)

            #expect(!Self.types(document, "NewAgent", "role").contains("null"))
            let refused = try await routing.raw(
                "POST", "/v1/agents", body: Array(#"{"name":"Bo","email":"bo@desk.example.com","role":null}"#.utf8))
            #expect(refused.status == 400)

            let conversations = Self.json(try await cluster.raw(.conversations).raw("GET", "/openapi.json"))
            #expect(Self.types(conversations, "TagChange", "add").contains("null"))
            let inbound = try await kit.inbound(.email, from: "ann@example.com", expecting: 201)
            let id = try #require(inbound.conversationId)
            let tags = try await cluster.raw(.conversations, token: cluster.token(.agent, sub: ada.id))
                .raw("POST", "/v1/conversations/\(id)/tags", body: Array(#"{"add":null,"remove":null}"#.utf8))
            #expect(tags.status == 200)
        }
    }
}
