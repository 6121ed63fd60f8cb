// An application using Concierge's client library, as another Swift package would: it depends only
// on the `ConciergeClients` product (README, "Using the client library").
//
//   concierge-example                  lists the newest conversations
//   concierge-example --follow N       then prints the next N assignments as they happen, and exits
//
// CONVERSATIONS_URL (default http://127.0.0.1:8082) and CONCIERGE_TOKEN (a token the suite's
// `concierge token` mints; a manager's or an administrator's sees every assignment).
import ConciergeClients
import ConciergeModels
import Foundation

let environment = ProcessInfo.processInfo.environment
let url = environment["CONVERSATIONS_URL"] ?? "http://127.0.0.1:8082"
guard let token = environment["CONCIERGE_TOKEN"], !token.isEmpty else {
    FileHandle.standardError.write(Data("concierge-example: set CONCIERGE_TOKEN\n".utf8))
    exit(2)
}
var follow = 0
if let index = CommandLine.arguments.firstIndex(of: "--follow"), index + 1 < CommandLine.arguments.count {
    follow = Int(CommandLine.arguments[index + 1]) ?? 0
}

let conversations = ConversationsClient(baseURL: url, tokens: .fixed(token))
do {
    var filters = ConversationsClient.Filters()
    filters.limit = 5
    for conversation in try await conversations.conversations(filters).items {
        print("conversation \(conversation.id) \(conversation.channel.rawValue) \(conversation.status.rawValue)")
    }
    if follow > 0 {
        // Assignments as they commit: Server-Sent Events, read as an async sequence.
        var seen = 0
        for try await event in try await conversations.eventStream(types: ["conversation.assigned"]) {
            print("assigned \(event[data: "id"] ?? "?") to \(event[data: "assigneeId"] ?? "?")")
            seen += 1
            if seen == follow { break }
        }
    }
} catch {
    FileHandle.standardError.write(Data("concierge-example: \(error)\n".utf8))
    exit(1)
}
