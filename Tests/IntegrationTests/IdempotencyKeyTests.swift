import ConciergeClients
import ConciergeHTTPClient
import ConciergeModels
import Foundation
import TestSupport
import Testing

/// `Idempotency-Key` on the public POSTs of the real services: a repeated request is answered from the
/// first answer and has its effect once. (The mechanism's rules — 409 in flight, expiry, what is kept —
/// are tested in-process in `NetworkTests/IdempotencyKeyTests`.)
@Suite struct IdempotencyKeyTests {
    /// Sends `json` to `path` with a key, as `token`.
    static func post(
        _ cluster: TestCluster, _ kind: ServiceKind, _ path: String, _ json: String, key: String?, token: String,
        contentType: String = "application/json"
    ) async throws -> ClientResponse {
        try await cluster.raw(kind, token: token)
            .raw(
                "POST", path, body: Array(json.utf8), contentType: contentType,
                headers: key.map { [("Idempotency-Key", $0)] } ?? [])
    }

    static func json(_ response: ClientResponse) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]) ?? [:]
    }

    @Test func aRepeatedReplySendsOneMessage() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let (_, ada) = try await kit.desk()
            let inbound = try await kit.inbound(.email, from: "ann@example.com", expecting: 201)
            let id = try #require(inbound.conversationId)
            let path = "/v1/conversations/\(id)/messages"
            let token = cluster.token(.agent, sub: ada.id)
            let first = try await Self.post(
                cluster, .conversations, path, #"{"body":"On it."}"#, key: "r1", token: token)
            let second = try await Self.post(
                cluster, .conversations, path, #"{"body":"On it."}"#, key: "r1", token: token)
            #expect(first.status == 201)
            #expect(first.header("idempotency-replayed") == nil)
            #expect(second.status == 201)
            #expect(second.header("idempotency-replayed") == "true")
            #expect(second.body == first.body)
            let other = try await Self.post(
                cluster, .conversations, path, #"{"body":"Other"}"#, key: "r1", token: token)
            #expect(other.status == 422)
            let outbound = try await kit.messages(id).filter { $0.direction == .outbound }
            #expect(outbound.map(\.body) == ["On it."])
            // Without a key each POST is a reply of its own.
            _ = try await Self.post(cluster, .conversations, path, #"{"body":"Again."}"#, key: nil, token: token)
            _ = try await Self.post(cluster, .conversations, path, #"{"body":"Again."}"#, key: nil, token: token)
            #expect(try await kit.messages(id).filter { $0.direction == .outbound }.count == 3)
        }
    }

    @Test func aRepeatedCreateMakesOneInEveryService() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            let admin = cluster.token(.administrator)
            func twice(_ kind: ServiceKind, _ path: String, _ json: String, contentType: String = "application/json")
                async throws -> (ClientResponse, ClientResponse)
            {
                let key = "create-\(kind.rawValue)"
                let first = try await Self.post(
                    cluster, kind, path, json, key: key, token: admin, contentType: contentType)
                let second = try await Self.post(
                    cluster, kind, path, json, key: key, token: admin, contentType: contentType)
                #expect(first.status / 100 == 2, "\(kind): \(first.status)")
                #expect(second.status == first.status, "\(kind)")
                #expect(second.body == first.body, "\(kind)")
                #expect(second.header("idempotency-replayed") == "true", "\(kind)")
                return (first, second)
            }
            func count(_ kind: ServiceKind, _ path: String) async throws -> Int {
                let page = try await cluster.raw(kind, token: admin).raw("GET", path)
                return (Self.json(page)["items"] as? [Any])?.count ?? -1
            }

            // Run twice, the second create would be a 409: the email belongs to the first.
            _ = try await twice(.contacts, "/v1/contacts", #"{"name":"Eve","emails":["eve@example.com"]}"#)
            #expect(try await count(.contacts, "/v1/contacts?email=eve%40example.com") == 1)

            _ = try await twice(.routing, "/v1/inboxes", #"{"name":"Night shift"}"#)
            #expect(try await count(.routing, "/v1/inboxes") == 1)

            let rule = #"{"field":"conversation.tag","op":"equals","value":"vip"}"#
            _ = try await twice(.conversations, "/v1/folders", #"{"name":"VIP","rule":\#(rule)}"#)
            #expect(try await count(.conversations, "/v1/folders") == 1)

            // Run twice, the import would count the customer as updated the second time.
            let line = #"{"email":"vip@example.com","customerType":"VIP"}"# + "\n"
            let (imported, _) = try await twice(
                .crmLookup, "/v1/customers/import", line, contentType: "application/x-ndjson")
            #expect(Self.json(imported)["imported"] as? Int == 1)
            let rerun = try await Self.post(
                cluster, .crmLookup, "/v1/customers/import", line, key: nil, token: admin,
                contentType: "application/x-ndjson")
            #expect(Self.json(rerun)["updated"] as? Int == 1)
        }
    }

    @Test func theServedDocumentsDeclareTheHeaderOnEveryPublicPost() async throws {
        try await withServices([.contacts, .routing, .conversations, .crmLookup]) { cluster in
            for kind in ServiceKind.allCases {
                let response = try await cluster.raw(kind).raw("GET", "/openapi.json")
                let document = Self.json(response)
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                for (path, operations) in paths {
                    guard let post = operations["post"] as? [String: Any] else { continue }
                    let parameters = (post["parameters"] as? [[String: Any]]) ?? []
                    let refs = parameters.compactMap { $0["$ref"] as? String }
                    let ownRule =
                        path.hasPrefix("/v1/internal/") || path.hasPrefix("/v1/assignments/")
                        || ["/v1/route", "/v1/inbound", "/v1/contacts/resolve"].contains(path)
                    #expect(
                        refs.contains("#/components/parameters/ClientIdempotencyKey") == !ownRule,
                        "\(kind) POST \(path)")
                }
                let header = (document["components"] as? [String: Any]).flatMap { $0["headers"] as? [String: Any] }
                #expect(header?["IdempotencyReplayed"] != nil, "\(kind)")
            }
        }
    }
}
