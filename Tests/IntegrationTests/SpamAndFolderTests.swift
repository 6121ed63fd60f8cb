import ConciergeClients
import ConciergeHTTPClient
import ConciergeJSON
import ConciergeModels
import Foundation
import TestSupport
import Testing

// SPEC §6 with real executables: spam marks and blocking, the learning filter, tags, smart folders.
// `ConversationsClient` has no folder or spam calls, so those go through raw JSON requests.

/// A smart folder as the conversations service answers it.
private struct FolderBody: Codable, Equatable {
    var id: String
    var name: String
    var rule: JSONValue
}

/// `GET /v1/spam-filter`.
private struct FilterSummary: Codable, Equatable {
    var spamDocuments: Int
    var hamDocuments: Int
    var vocabulary: Int
}

/// The calls of SPEC §6 that the typed client lacks, as raw requests with JSON bodies.
private struct SpamFolderAPI: Sendable {
    let cluster: TestCluster

    func call(_ method: String, _ path: String, json: String? = nil, as role: Role, sub: String? = nil) async throws
        -> ClientResponse
    {
        try await cluster.raw(.conversations, token: cluster.token(role, sub: sub))
            .raw(method, path, body: json.map { Array($0.utf8) })
    }

    /// Sends and requires `status`; decodes the answer as `T`.
    func expect<T: Decodable>(
        _ status: Int, _ method: String, _ path: String, json: String? = nil, as role: Role, sub: String? = nil,
        decoding: T.Type = T.self, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> T {
        let response = try await call(method, path, json: json, as: role, sub: sub)
        try #require(
            response.status == status,
            "\(method) \(path) answered \(response.status): \(String(decoding: response.body, as: UTF8.self))",
            sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(response.body))
    }

    func markSpam(
        _ id: String, as role: Role = .agent, sub: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> Conversation
    {
        try await expect(
            200, "POST", "/v1/conversations/\(id)/spam", as: role, sub: sub, sourceLocation: sourceLocation)
    }

    func notSpam(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Conversation {
        try await expect(
            200, "POST", "/v1/conversations/\(id)/not-spam", as: .teamManager, sourceLocation: sourceLocation)
    }

    func filter() async throws -> FilterSummary {
        try await expect(200, "GET", "/v1/spam-filter", as: .agent)
    }

    /// Creates a folder as a team manager; returns its id.
    func folder(_ name: String, rule: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String
    {
        let folder: FolderBody = try await expect(
            201, "POST", "/v1/folders", json: #"{"name": "\#(name)", "rule": \#(rule)}"#, as: .teamManager,
            sourceLocation: sourceLocation)
        return folder.id
    }

    func page(_ folderID: String, query: String = "", as role: Role = .agent) async throws -> Page<Conversation> {
        try await expect(200, "GET", "/v1/folders/\(folderID)/conversations\(query)", as: role)
    }

    /// Every conversation in the folder now, walking the cursor to the end; read as an agent.
    func ids(_ folderID: String) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await page(folderID, query: "?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            ids += page.items.map(\.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 100
        return ids
    }
}

/// Lower-cased runs of letters and digits, as SPEC §6 tokenises, for counting the vocabulary.
private func words(_ text: String) -> [String] {
    text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
}

/// Mark as spam, blocking, not-spam and the learning filter (SPEC §6, §4 steps 2 and 4).
@Suite struct SpamAndFolderTests {
    @Test func markingSpamHidesItBlocksTheContactAndNotSpamBringsItBack() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (support, ada) = try await kit.desk()
            let pestFolder = try await api.folder(
                "Pests", rule: #"{"field": "contact.email", "op": "endsWith", "value": "@pest.example"}"#)
            let everything = try await api.folder(
                "Everything", rule: #"{"field": "conversation.channel", "op": "exists"}"#)
            let first = try await kit.inbound(
                .email, from: "spammer@pest.example", body: "Buy cheap watches now", subject: "Watches", expecting: 201)
            let spamID = try #require(first.conversationId)
            let normal = try #require(
                try await kit.inbound(.email, from: "ok@example.com", expecting: 201).conversationId)
            _ = try await kit.conversations.tags(spamID, add: ["watches"])
            let before = try await kit.conversations.conversation(spamID)
            #expect(try await kit.allConversations().map(\.id) == [normal, spamID])
            #expect(try await api.ids(pestFolder) == [spamID])
            #expect(try await api.filter() == FilterSummary(spamDocuments: 0, hamDocuments: 0, vocabulary: 0))

            // An agent marks it: it is spam, unrouted, and leaves every list and folder.
            let marked = try await api.markSpam(spamID, sub: ada.id)
            #expect(marked.spam == true)
            #expect(marked.routingState == .none)
            #expect(try await kit.allConversations().map(\.id) == [normal])
            let filters: [ConversationsClient.Filters] = [
                .init(status: before.status), .init(inboxId: support.id), .init(assigneeId: before.assigneeId),
                .init(contactId: first.contactId), .init(tag: "watches"), .init(channel: .email), .init(spam: false),
            ]
            for filter in filters {
                #expect(try await kit.allConversations(filter).map(\.id).contains(spamID) == false, "\(filter)")
            }
            #expect(try await api.ids(pestFolder).isEmpty)
            #expect(try await api.ids(everything) == [normal])
            // Its inbound message trained the filter as spam: 4 words.
            #expect(try await api.filter() == FilterSummary(spamDocuments: 1, hamDocuments: 0, vocabulary: 4))

            // Managers and administrators still read it; an agent does not see it at all.
            #expect(try await kit.manager.conversations(.init(spam: true)).items.map(\.id) == [spamID])
            #expect(try await kit.conversations.conversations(.init(spam: true)).items.map(\.id) == [spamID])
            #expect(try await kit.manager.conversation(spamID).spam == true)
            #expect(try await kit.conversations.messages(spamID).items.map(\.body) == ["Buy cheap watches now"])
            let asAda = kit.acting(as: ada)
            #expect(await ConversationKit.problem { try await asAda.conversation(spamID) }?.status == 404)
            #expect(await ConversationKit.problem { try await asAda.messages(spamID) }?.status == 404)
            #expect(await ConversationKit.problem { try await asAda.conversations(.init(spam: true)) }?.status == 403)

            // The contacts service blocks the contact (through the outbox), then its messages are dropped.
            let blocked = try await eventually(within: 15) {
                try await kit.contacts.get(first.contactId).blocked
            }
            #expect(blocked, "contact \(first.contactId) was not blocked by marking spam")
            let dropped = try await kit.send(.email, from: "spammer@pest.example", body: "Still selling watches")
            #expect(dropped.code == 200)
            #expect(dropped.result?.dropped == true)
            #expect(dropped.result?.reason == "contact_blocked")
            #expect(dropped.result?.contactId == first.contactId)
            #expect(dropped.result?.conversationId == nil)
            #expect(try await kit.manager.conversations(.init(spam: true)).items.map(\.id) == [spamID])
            #expect(try await kit.allConversations().map(\.id) == [normal])

            // Marking again changes nothing — a manager gets it back unchanged, an agent (who cannot see
            // spam conversations) a 404 — and an agent may not undo it.
            #expect(try await api.markSpam(spamID, as: .teamManager).spam == true)
            let again = try await api.call("POST", "/v1/conversations/\(spamID)/spam", as: .agent, sub: ada.id)
            #expect(again.status == 404)
            #expect(try await api.filter().spamDocuments == 1)
            let agentUndo = try await api.call("POST", "/v1/conversations/\(spamID)/not-spam", as: .agent, sub: ada.id)
            #expect(agentUndo.status == 403)

            // Not spam: back in the lists and folders, trained the other way, the contact still blocked.
            let restored = try await api.notSpam(spamID)
            #expect(restored.spam == false)
            #expect(try await kit.allConversations().map(\.id) == [normal, spamID])
            #expect(try await kit.allConversations(.init(tag: "WATCHES")).map(\.id) == [spamID])
            #expect(try await api.ids(pestFolder) == [spamID])
            #expect(try await asAda.conversation(spamID).spam == false)
            #expect(try await kit.manager.conversations(.init(spam: true)).items.isEmpty)
            #expect(try await api.filter() == FilterSummary(spamDocuments: 0, hamDocuments: 1, vocabulary: 4))
            #expect(try await kit.contacts.get(first.contactId).blocked == true)
            let stillDropped = try await kit.send(.email, from: "spammer@pest.example", body: "Watches again")
            #expect(stillDropped.result?.dropped == true)

            // Only a manager unblocks (contacts service); then the next message is accepted and threads in.
            let agentContacts = cluster.contacts(as: .agent, sub: ada.id)
            #expect(await ConversationKit.problem { try await agentContacts.unblock(first.contactId) }?.status == 403)
            #expect(try await kit.contacts.unblock(first.contactId).blocked == false)
            let accepted = try await kit.inbound(
                .email, from: "spammer@pest.example", body: "Sorry, a real question", expecting: 200)
            #expect(accepted.dropped == false)
            #expect(accepted.spam == false)
            #expect(accepted.conversationId == spamID)
            #expect(try await kit.messages(spamID).map(\.body) == ["Buy cheap watches now", "Sorry, a real question"])
        }
    }

    @Test func filterLearnsFromFiveAndFiveExamplesAndCatchesANewSender() async throws {
        try await learnThenJudge(
            spam: [
                "Congratulations! You won a FREE iPhone, click here to claim your prize",
                "Cheap pills without prescription, free shipping, order now",
                "Earn money fast from home, click here, free signup",
                "You are our lucky winner: claim your free cash prize now",
                "Hot singles in your area, click here now for free",
            ],
            ham: [
                "Hello, my order has not arrived yet. Can you help?",
                "I would like to change the delivery address on my order",
                "The invoice for March is missing, could you send it again?",
                "Thanks for the help yesterday, the parcel arrived",
                "When does the shop open on Saturday?",
            ],
            newSpam: "Click here to claim your free prize now, lucky winner!",
            normal: "Hi, could you help me change the delivery address of my order?")
    }

    @Test func filterLearnsDanishAndCatchesANewSender() async throws {
        try await learnThenJudge(
            spam: [
                "Tillykke! Du har vundet en GRATIS iPhone, klik her og hent din præmie",
                "Billige piller uden recept – gratis fragt, bestil nu",
                "Tjen penge hurtigt hjemmefra, klik her, gratis tilmelding",
                "Du er vores heldige vinder: hent din gratis kontantpræmie nu",
                "Gratis æblegrød på tilbud, kun i dag! Klik her nu",
            ],
            ham: [
                "Hej, min ordre er ikke kommet frem endnu. Kan I hjælpe?",
                "Jeg vil gerne ændre leveringsadressen på min ordre",
                "Fakturaen for marts mangler, kan I sende den igen?",
                "Tak for hjælpen i går, pakken er kommet",
                "Hvornår åbner butikken på lørdag?",
            ],
            newSpam: "KLIK HER og hent din gratis præmie nu, heldige vinder!",
            normal: "Hej, kan I hjælpe mig med at ændre leveringsadressen på min ordre?")
    }

    /// Trains the filter through the API (marking 5 conversations spam; replying to and closing 5
    /// others), checks it does not judge before 5 + 5, then sends `newSpam` and `normal` from new senders.
    private func learnThenJudge(spam: [String], ham: [String], newSpam: String, normal: String) async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (_, ada) = try await kit.desk(capacity: PartialCounts(email: 50))
            let asAda = kit.acting(as: ada)
            let everything = try await api.folder(
                "Everything", rule: #"{"field": "conversation.channel", "op": "exists"}"#)
            var spamIDs: [String] = []
            var hamIDs: [String] = []
            for (index, text) in spam.enumerated() {
                let result = try await kit.inbound(
                    .email, from: "offer\(index)@junk.example", body: text, expecting: 201)
                #expect(result.spam == false, "an untrained filter judged \(text)")
                spamIDs.append(try #require(result.conversationId))
            }
            for (index, text) in ham.enumerated() {
                let result = try await kit.inbound(
                    .email, from: "customer\(index)@example.com", body: text, expecting: 201)
                #expect(result.spam == false)
                hamIDs.append(try #require(result.conversationId))
            }
            for id in spamIDs { _ = try await api.markSpam(id, sub: ada.id) }
            let spamVocabulary = Set(spam.flatMap(words)).count
            #expect(
                try await api.filter() == FilterSummary(spamDocuments: 5, hamDocuments: 0, vocabulary: spamVocabulary))
            for id in hamIDs.prefix(4) {
                _ = try await asAda.reply(id, body: "Thanks, we are on it.")
                _ = try await asAda.close(id)
            }
            #expect(try await api.filter().hamDocuments == 4)

            // 5 spam and 4 not-spam examples: too few, the filter does not judge yet.
            let early = try await kit.inbound(.email, from: "early@fresh.example", body: newSpam, expecting: 201)
            #expect(early.spam == false, "judged with only 4 not-spam examples")
            #expect(early.routingState != RoutingState.none)

            // A conversation closed without a reply teaches nothing; one replied to does.
            let unanswered = try #require(
                try await kit.inbound(.email, from: "quiet@example.com", body: "never mind", expecting: 201)
                    .conversationId)
            _ = try await asAda.close(unanswered)
            #expect(try await api.filter().hamDocuments == 4)
            _ = try await asAda.reply(hamIDs[4], body: "Thanks, we are on it.")
            _ = try await asAda.close(hamIDs[4])
            let trained = try await api.filter()
            #expect(
                trained
                    == FilterSummary(
                        spamDocuments: 5, hamDocuments: 5, vocabulary: Set((spam + ham).flatMap(words)).count))

            // A spam message from a sender never seen before: its conversation is spam and unrouted.
            let caught = try await kit.inbound(.email, from: "brand-new@fresh.example", body: newSpam, expecting: 201)
            let caughtID = try #require(caught.conversationId)
            #expect(caught.spam == true, "P(spam) ≥ 0.95 expected for: \(newSpam)")
            #expect(caught.dropped == false)
            #expect(caught.routingState == RoutingState.none)
            #expect(caught.assigneeId == nil)
            let stored = try await kit.manager.conversation(caughtID)
            #expect(stored.spam == true)
            #expect(stored.routingState == .none)
            #expect(stored.assigneeId == nil)
            #expect(try await kit.allConversations().map(\.id).contains(caughtID) == false)
            #expect(try await api.ids(everything).contains(caughtID) == false)
            #expect(try await kit.manager.conversations(.init(spam: true)).items.first?.id == caughtID)
            #expect(await ConversationKit.problem { try await asAda.conversation(caughtID) }?.status == 404)

            // An ordinary message from another new sender goes through and is routed.
            let passed = try await kit.inbound(.email, from: "another-new@fresh.example", body: normal, expecting: 201)
            let passedID = try #require(passed.conversationId)
            #expect(passed.spam == false, "judged spam: \(normal)")
            #expect(passed.routingState == .assigned)
            #expect(passed.assigneeId == ada.id)
            #expect(try await kit.allConversations().first?.id == passedID)
            #expect(try await api.ids(everything).first == passedID)

            // Judging trains nothing, and the filter's catch does not block the sender.
            #expect(try await api.filter() == trained)
            #expect(try await kit.contacts.get(caught.contactId).blocked == false)
            // Out of the lists for good: a follow-up naming the spam conversation starts a new one.
            let followUp = try await kit.send(
                .email, from: "brand-new@fresh.example", body: "Hello?", conversationId: caughtID)
            #expect(followUp.code == 201)
            #expect(followUp.result?.dropped == false)
            #expect(followUp.result?.conversationId != caughtID)
            #expect(try await kit.manager.conversation(caughtID).spam == true)
            #expect(try await kit.manager.messages(caughtID).items.map(\.body) == [newSpam])
        }
    }
}

/// Tags (SPEC §6): case-preserving, matched case-insensitively, and the `tag=` list filter.
@Suite struct SpamAndFolderTagTests {
    @Test func tagsAreCasePreservingMatchedCaseInsensitivelyAndFilterTheList() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (_, ada) = try await kit.desk()
            let asAda = kit.acting(as: ada)
            let tagged = try #require(
                try await kit.inbound(.email, from: "tag1@example.com", expecting: 201).conversationId)
            let other = try #require(
                try await kit.inbound(.email, from: "tag2@example.com", expecting: 201).conversationId)

            #expect(try await asAda.tags(tagged, add: ["Æble", "Urgent"]).tags == ["Æble", "Urgent"])
            #expect(
                try await asAda.tags(tagged, add: ["æBLE", "URGENT", "billing"]).tags == ["Æble", "Urgent", "billing"])
            #expect(try await asAda.tags(other, add: ["ÆBLE", "Straße"]).tags == ["ÆBLE", "Straße"])
            #expect(try await asAda.tags(tagged, remove: ["æble", "not-there"]).tags == ["Urgent", "billing"])
            #expect(try await asAda.tags(tagged, add: ["Billing"], remove: ["urgent"]).tags == ["billing"])
            #expect(try await kit.conversations.conversation(tagged).tags == ["billing"])

            #expect(try await kit.allConversations(.init(tag: "æble")).map(\.id) == [other])
            #expect(try await kit.allConversations(.init(tag: "ÆBLE")).map(\.id) == [other])
            #expect(try await kit.allConversations(.init(tag: "straße")).map(\.id) == [other])
            #expect(try await kit.allConversations(.init(tag: "BILLING")).map(\.id) == [tagged])
            #expect(try await kit.allConversations(.init(tag: "urgent")).isEmpty)
            #expect(try await kit.allConversations(.init(tag: "nothing")).isEmpty)
            let folder = try await api.folder(
                "Apples", rule: #"{"field": "conversation.tag", "op": "equals", "value": "æBle"}"#)
            #expect(try await api.ids(folder) == [other])

            // A spam conversation keeps its tags but leaves the tag list.
            _ = try await api.markSpam(other, sub: ada.id)
            #expect(try await kit.allConversations(.init(tag: "æble")).isEmpty)
            #expect(try await kit.manager.conversations(.init(tag: "Æble", spam: true)).items.map(\.id) == [other])
            #expect(try await kit.manager.conversation(other).tags == ["ÆBLE", "Straße"])
            #expect(try await api.ids(folder).isEmpty)
        }
    }
}

/// One folder rule and the fixture conversations it must list, newest first.
struct FolderRuleCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// JSON; `{sales}`, `{support}`, `{ada}`, `{bob}` are replaced by the fixture's ids.
    var rule: String
    var matches: [String]
    var testDescription: String { name }
}

/// A desk with six conversations of different shapes, oldest first:
///
///     key    channel    contact (emails, tags)                             subject                      tags                 status   inbox / assignee
///     ann    email      ann@super-important-customer.com, [VIP]           "Invoice OVERDUE for March"  [Billing, VIP-Case]  waiting  support / ada
///     bea    email      bea@example.com, [gold]                            "Question about delivery"    [billing]            open     support / ada
///     carl   messaging  handle carl-chat, []                               –                            []                   waiting  sales / bob
///     dan    voice      +4511223344, []                                    –                            [Urgent]             closed   support
///     eve    email      eve@super-important-customer.com.evil.example, []  "Re: invoice 1234"           []                   waiting  support / ada
///     spam   email      spam@super-important-customer.com, [VIP]          "Invoice: cheap watches"     [billing, Urgent]    SPAM     support
private struct FolderFixture {
    static let order = ["ann", "bea", "carl", "dan", "eve", "spam"]
    let kit: ConversationKit
    let api: SpamFolderAPI
    var ids: [String: String] = [:]
    var placeholders: [String: String] = [:]

    static func make(_ cluster: TestCluster) async throws -> FolderFixture {
        let kit = ConversationKit(cluster)
        var fixture = FolderFixture(kit: kit, api: SpamFolderAPI(cluster: cluster))
        let everyChannel = PartialCounts(email: 20, messaging: 20, voice: 20, voicemail: 20)
        let (support, ada) = try await kit.desk(capacity: everyChannel)
        let sales = try await kit.inbox("Sales")
        let bob = try await kit.agent("Bob", inboxes: [sales.id], capacity: everyChannel)
        fixture.placeholders = ["{support}": support.id, "{sales}": sales.id, "{ada}": ada.id, "{bob}": bob.id]
        _ = try await kit.contacts.create(
            NewContact(name: "Ann", emails: ["ann@super-important-customer.com"], tags: ["VIP"]))
        _ = try await kit.contacts.create(NewContact(name: "Bea", emails: ["bea@example.com"], tags: ["gold"]))
        _ = try await kit.contacts.create(
            NewContact(name: "Spammer", emails: ["spam@super-important-customer.com"], tags: ["VIP"]))
        let asAda = kit.acting(as: ada)

        let ann = try #require(
            try await kit.inbound(
                .email, from: "ann@super-important-customer.com", subject: "Invoice OVERDUE for March", expecting: 201
            )
            .conversationId)
        _ = try await asAda.tags(ann, add: ["Billing", "VIP-Case"])
        let bea = try #require(
            try await kit.inbound(.email, from: "bea@example.com", subject: "Question about delivery", expecting: 201)
                .conversationId)
        _ = try await asAda.tags(bea, add: ["billing"])
        _ = try await asAda.reply(bea, body: "It ships tomorrow.")
        let carl = try #require(try await kit.inbound(.messaging, from: "carl-chat", expecting: 201).conversationId)
        _ = try await kit.conversations.move(carl, inboxId: sales.id)
        let dan = try #require(try await kit.inbound(.voice, from: "+4511223344", expecting: 201).conversationId)
        _ = try await asAda.tags(dan, add: ["Urgent"])
        _ = try await asAda.close(dan)
        let eve = try #require(
            try await kit.inbound(
                .email, from: "eve@super-important-customer.com.evil.example", subject: "Re: invoice 1234",
                expecting: 201
            ).conversationId)
        let spam = try #require(
            try await kit.inbound(
                .email, from: "spam@super-important-customer.com", subject: "Invoice: cheap watches", expecting: 201
            )
            .conversationId)
        _ = try await asAda.tags(spam, add: ["billing", "Urgent"])
        _ = try await fixture.api.markSpam(spam, sub: ada.id)
        fixture.ids = ["ann": ann, "bea": bea, "carl": carl, "dan": dan, "eve": eve, "spam": spam]

        // The table above is what the conversations say.
        func read(_ id: String) async throws -> Conversation { try await kit.conversations.conversation(id) }
        #expect(try await read(ann).assigneeId == ada.id)
        #expect(try await read(bea).status == .open)
        let carlNow = try await read(carl)
        #expect(carlNow.inboxId == sales.id && carlNow.assigneeId == bob.id)
        #expect(try await read(dan).status == .closed)
        #expect(try await read(eve).inboxId == support.id)
        #expect(try await read(spam).spam == true)
        return fixture
    }

    /// The conversations of `keys`, newest first.
    func expected(_ keys: [String]) -> [String] {
        Self.order.reversed().filter(keys.contains).compactMap { ids[$0] }
    }

    func rule(_ template: String) -> String {
        placeholders.reduce(template) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    /// The fixture keys of the given ids, for readable failures.
    func keys(_ conversationIDs: [String]) -> [String] {
        conversationIDs.map { id in ids.first { $0.value == id }?.key ?? id }
    }
}

/// Smart folders (SPEC §6): CRUD, validation, every field and operator, nesting, live matching, paging.
@Suite struct SpamAndFolderRuleTests {
    @Test func foldersAreCreatedReadListedReplacedAndDeleted() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let api = SpamFolderAPI(cluster: cluster)
            let rule =
                #"{"any": [{"field": "contact.tag", "op": "equals", "value": "VIP"}, {"not": {"field": "conversation.status", "op": "in", "value": ["closed"]}}]}"#
            let created: FolderBody = try await api.expect(
                201, "POST", "/v1/folders", json: #"{"name": "VIP desk", "rule": \#(rule)}"#, as: .teamManager)
            #expect(!created.id.isEmpty)
            #expect(created.name == "VIP desk")
            #expect(created.rule == (try JSONDecoder().decode(JSONValue.self, from: Data(rule.utf8))))
            let read: FolderBody = try await api.expect(200, "GET", "/v1/folders/\(created.id)", as: .agent)
            #expect(read == created)
            let list: Page<FolderBody> = try await api.expect(200, "GET", "/v1/folders", as: .agent)
            #expect(list.items == [created])

            // Agents read folders but may not create, replace or delete them.
            let agentCreate = try await api.call(
                "POST", "/v1/folders", json: #"{"name": "Mine", "rule": \#(rule)}"#, as: .agent)
            #expect(agentCreate.status == 403)
            let agentPut = try await api.call(
                "PUT", "/v1/folders/\(created.id)", json: #"{"name": "Mine", "rule": \#(rule)}"#, as: .agent)
            #expect(agentPut.status == 403)
            #expect(try await api.call("DELETE", "/v1/folders/\(created.id)", as: .agent).status == 403)
            let unchanged: FolderBody = try await api.expect(200, "GET", "/v1/folders/\(created.id)", as: .agent)
            #expect(unchanged == created)

            let newRule = #"{"field": "conversation.channel", "op": "equals", "value": "voice"}"#
            let replaced: FolderBody = try await api.expect(
                200, "PUT", "/v1/folders/\(created.id)", json: #"{"name": "Calls", "rule": \#(newRule)}"#,
                as: .administrator)
            #expect(replaced.id == created.id)
            #expect(replaced.name == "Calls")
            #expect(replaced.rule == (try JSONDecoder().decode(JSONValue.self, from: Data(newRule.utf8))))
            let reread: FolderBody = try await api.expect(200, "GET", "/v1/folders/\(created.id)", as: .agent)
            #expect(reread == replaced)

            let deleted = try await api.call("DELETE", "/v1/folders/\(created.id)", as: .teamManager)
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
            #expect(try await api.call("GET", "/v1/folders/\(created.id)", as: .agent).status == 404)
            #expect(try await api.call("GET", "/v1/folders/\(created.id)/conversations", as: .agent).status == 404)
            #expect(try await api.call("DELETE", "/v1/folders/\(created.id)", as: .teamManager).status == 404)
            let putUnknown = try await api.call(
                "PUT", "/v1/folders/no-such-folder", json: #"{"name": "X", "rule": \#(newRule)}"#, as: .teamManager)
            #expect(putUnknown.status == 404)
            #expect(try await api.call("GET", "/v1/folders/no-such-folder", as: .agent).status == 404)
            let empty: Page<FolderBody> = try await api.expect(200, "GET", "/v1/folders", as: .agent)
            #expect(empty.items.isEmpty)
            #expect(empty.nextCursor == nil)
        }
    }

    @Test func folderListIsNewestFirstAndPagesWithACursor() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let api = SpamFolderAPI(cluster: cluster)
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(
                    try await api.folder("Folder \(index)", rule: #"{"field": "conversation.tag", "op": "exists"}"#))
            }
            // SPEC §2: lists take limit and cursor and are newest first unless said otherwise.
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page: Page<FolderBody> = try await api.expect(
                    200, "GET", "/v1/folders?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .agent)
                #expect(page.items.count <= 2)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == Array(ids.reversed()))
            #expect(pages == 3)
        }
    }

    @Test(arguments: [
        (#"{"field": "contact.phone", "op": "exists"}"#, "rule.field"),
        (#"{"field": "conversation.priority", "op": "equals", "value": "high"}"#, "rule.field"),
        (#"{"field": "conversation.status", "op": "matches", "value": "open"}"#, "rule.op"),
        (#"{"field": "conversation.status", "op": "in", "value": "open"}"#, "rule.value"),
        (#"{"field": "conversation.status", "op": "in", "value": []}"#, "rule.value"),
        (#"{"field": "conversation.subject", "op": "contains"}"#, "rule.value"),
        (
            #"{"all": [{"field": "conversation.status", "op": "equals", "value": "open"}, {"not": {"field": "contact.name", "op": "exists"}}]}"#,
            "rule.all[1].not.field"
        ),
        (
            #"{"any": [{"field": "conversation.tag", "op": "exists"}, {"field": "conversation.tag", "op": "like", "value": "x"}]}"#,
            "rule.any[1].op"
        ),
        (#"{"not": {"all": [{"field": "contact.email", "op": "in", "value": "a@b.c"}]}}"#, "rule.not.all[0].value"),
        (#"{"all": []}"#, "rule"),
        (#"{"dedicatedHero": "assigned"}"#, "rule"),
        (#""conversation.tag""#, "rule"),
    ])
    func invalidRulesAre422NamingTheBadNode(rule: String, field: String) async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let api = SpamFolderAPI(cluster: cluster)
            let body = #"{"name": "Bad", "rule": \#(rule)}"#
            let created = try await api.call("POST", "/v1/folders", json: body, as: .teamManager)
            #expect(created.status == 422, "\(String(decoding: created.body, as: UTF8.self))")
            #expect(created.header("content-type") == "application/problem+json")
            let problem = try JSONDecoder().decode(Problem.self, from: Data(created.body))
            #expect(problem.errors?.map(\.field).contains(field) == true, "errors: \(problem.errors ?? [])")
            let list: Page<FolderBody> = try await api.expect(200, "GET", "/v1/folders", as: .agent)
            #expect(list.items.isEmpty)

            // Replacing a good rule with the bad one is refused the same way and changes nothing.
            let good = try await api.folder("Good", rule: #"{"field": "conversation.tag", "op": "exists"}"#)
            let replaced = try await api.call("PUT", "/v1/folders/\(good)", json: body, as: .teamManager)
            #expect(replaced.status == 422)
            let problemOnPut = try JSONDecoder().decode(Problem.self, from: Data(replaced.body))
            #expect(problemOnPut.errors?.map(\.field).contains(field) == true)
            let kept: FolderBody = try await api.expect(200, "GET", "/v1/folders/\(good)", as: .agent)
            #expect(kept.name == "Good")
        }
    }

    @Test func aFolderWithoutARuleIs400() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let api = SpamFolderAPI(cluster: cluster)
            let missing = try await api.call("POST", "/v1/folders", json: #"{"name": "No rule"}"#, as: .teamManager)
            #expect(missing.status == 400)
            let problem = try JSONDecoder().decode(Problem.self, from: Data(missing.body))
            #expect(problem.errors?.first?.field == "rule")
        }
    }

    static let fieldCases = [
        FolderRuleCase(
            name: "conversation.tag", rule: #"{"field": "conversation.tag", "op": "equals", "value": "BILLING"}"#,
            matches: ["ann", "bea"]),
        FolderRuleCase(
            name: "conversation.subject",
            rule: #"{"field": "conversation.subject", "op": "contains", "value": "Invoice"}"#,
            matches: ["ann", "eve"]),
        FolderRuleCase(
            name: "conversation.status", rule: #"{"field": "conversation.status", "op": "equals", "value": "open"}"#,
            matches: ["bea"]),
        FolderRuleCase(
            name: "conversation.channel", rule: #"{"field": "conversation.channel", "op": "equals", "value": "voice"}"#,
            matches: ["dan"]),
        FolderRuleCase(
            name: "conversation.inboxId",
            rule: #"{"field": "conversation.inboxId", "op": "equals", "value": "{sales}"}"#,
            matches: ["carl"]),
        FolderRuleCase(
            name: "conversation.assigneeId",
            rule: #"{"field": "conversation.assigneeId", "op": "equals", "value": "{bob}"}"#,
            matches: ["carl"]),
        FolderRuleCase(
            name: "contact.tag", rule: #"{"field": "contact.tag", "op": "equals", "value": "vip"}"#, matches: ["ann"]),
        FolderRuleCase(
            name: "contact.email (SPEC example)",
            rule: #"{"field": "contact.email", "op": "endsWith", "value": "@super-important-customer.com"}"#,
            matches: ["ann"]),
    ]

    static let operatorCases = [
        FolderRuleCase(
            name: "exists", rule: #"{"field": "conversation.tag", "op": "exists"}"#, matches: ["ann", "bea", "dan"]),
        FolderRuleCase(
            name: "equals", rule: #"{"field": "conversation.channel", "op": "equals", "value": "EMAIL"}"#,
            matches: ["ann", "bea", "eve"]),
        FolderRuleCase(
            name: "notEquals", rule: #"{"field": "conversation.status", "op": "notEquals", "value": "waiting"}"#,
            matches: ["bea", "dan"]),
        FolderRuleCase(
            name: "in", rule: #"{"field": "conversation.channel", "op": "in", "value": ["voice", "MESSAGING"]}"#,
            matches: ["carl", "dan"]),
        FolderRuleCase(
            name: "contains", rule: #"{"field": "contact.email", "op": "contains", "value": "IMPORTANT-customer"}"#,
            matches: ["ann", "eve"]),
        FolderRuleCase(
            name: "startsWith", rule: #"{"field": "conversation.subject", "op": "startsWith", "value": "re:"}"#,
            matches: ["eve"]),
        FolderRuleCase(
            name: "endsWith", rule: #"{"field": "contact.email", "op": "endsWith", "value": "@EXAMPLE.com"}"#,
            matches: ["bea"]),
    ]

    static let nestedCases = [
        FolderRuleCase(
            name: "all with not",
            rule:
                #"{"all": [{"field": "conversation.channel", "op": "equals", "value": "email"}, {"not": {"field": "conversation.status", "op": "equals", "value": "open"}}]}"#,
            matches: ["ann", "eve"]),
        FolderRuleCase(
            name: "any",
            rule:
                #"{"any": [{"field": "contact.tag", "op": "exists"}, {"field": "conversation.tag", "op": "equals", "value": "urgent"}]}"#,
            matches: ["ann", "bea", "dan"]),
        FolderRuleCase(
            name: "not of any",
            rule:
                #"{"not": {"any": [{"field": "conversation.channel", "op": "in", "value": ["voice", "messaging"]}, {"field": "conversation.tag", "op": "exists"}]}}"#,
            matches: ["eve"]),
        FolderRuleCase(
            name: "all of any and not",
            rule:
                #"{"all": [{"any": [{"field": "contact.tag", "op": "equals", "value": "VIP"}, {"field": "contact.tag", "op": "equals", "value": "Gold"}]}, {"not": {"field": "conversation.tag", "op": "equals", "value": "vip-case"}}]}"#,
            matches: ["bea"]),
        FolderRuleCase(
            name: "not not",
            rule: #"{"not": {"not": {"field": "conversation.inboxId", "op": "equals", "value": "{support}"}}}"#,
            matches: ["ann", "bea", "dan", "eve"]),
    ]

    @Test(arguments: fieldCases) func eachFieldSelectsItsConversations(_ rule: FolderRuleCase) async throws {
        try await checkFolder(rule)
    }

    @Test(arguments: operatorCases) func eachOperatorSelectsItsConversations(_ rule: FolderRuleCase) async throws {
        try await checkFolder(rule)
    }

    @Test(arguments: nestedCases) func nestedRulesCombine(_ rule: FolderRuleCase) async throws {
        try await checkFolder(rule)
    }

    /// Builds the fixture, makes a folder of `rule`, and compares what it lists (never the spam one).
    private func checkFolder(_ rule: FolderRuleCase) async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let fixture = try await FolderFixture.make(cluster)
            let folder = try await fixture.api.folder(rule.name, rule: fixture.rule(rule.rule))
            let listed = try await fixture.api.ids(folder)
            #expect(fixture.keys(listed) == fixture.keys(fixture.expected(rule.matches)))
            #expect(listed.contains(fixture.ids["spam"] ?? "") == false)
        }
    }

    @Test func stringOperatorsIgnoreCaseBeyondASCII() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            _ = try await kit.desk()
            let upper = try #require(
                try await kit.inbound(.email, from: "a@example.dk", subject: "ÆBLEGRØD PÅ TILBUD", expecting: 201)
                    .conversationId)
            let lower = try #require(
                try await kit.inbound(.email, from: "b@example.dk", subject: "Tilbud på æblegrød", expecting: 201)
                    .conversationId)
            _ = try await kit.inbound(.email, from: "c@example.dk", subject: "Rødgrød med fløde", expecting: 201)
            let contains = try await api.folder(
                "Æblegrød", rule: #"{"field": "conversation.subject", "op": "contains", "value": "Æblegrød"}"#)
            #expect(try await api.ids(contains) == [lower, upper])
            let starts = try await api.folder(
                "Æble first", rule: #"{"field": "conversation.subject", "op": "startsWith", "value": "æblegrød"}"#)
            #expect(try await api.ids(starts) == [upper])
            let equals = try await api.folder(
                "Exact", rule: #"{"field": "conversation.subject", "op": "equals", "value": "tilbud PÅ ÆBLEGRØD"}"#)
            #expect(try await api.ids(equals) == [lower])
        }
    }

    @Test func aConversationJoinsTheFolderWhenTaggedAndNewOnesAppearByThemselves() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (_, ada) = try await kit.desk()
            let asAda = kit.acting(as: ada)
            let first = try #require(
                try await kit.inbound(.email, from: "x1@example.com", expecting: 201).conversationId)
            let second = try #require(
                try await kit.inbound(.email, from: "x2@example.com", expecting: 201).conversationId)
            let escalated = try await api.folder(
                "Escalated", rule: #"{"field": "conversation.tag", "op": "equals", "value": "escalated"}"#)
            let fromAcme = try await api.folder(
                "Acme", rule: #"{"field": "contact.email", "op": "endsWith", "value": "@acme.example"}"#)
            #expect(try await api.ids(escalated).isEmpty)
            #expect(try await api.ids(fromAcme).isEmpty)

            _ = try await asAda.tags(first, add: ["Escalated"])
            #expect(try await api.ids(escalated) == [first])
            _ = try await asAda.tags(second, add: ["ESCALATED"])
            #expect(try await api.ids(escalated) == [second, first])
            _ = try await asAda.tags(second, remove: ["escalated"])
            #expect(try await api.ids(escalated) == [first])

            // New conversations appear without anything being done to the folder.
            let acme = try #require(
                try await kit.inbound(.email, from: "buyer@ACME.example", expecting: 201).conversationId)
            #expect(try await api.ids(fromAcme) == [acme])
            #expect(try await api.ids(escalated) == [first])
            // Closing does not remove it: the rule does not mention status.
            _ = try await asAda.close(first)
            #expect(try await api.ids(escalated) == [first])
        }
    }

    @Test func aFolderFollowsTheContactWhenItsEmailAndTagsChange() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (_, ada) = try await kit.desk()
            let result = try await kit.inbound(.email, from: "mover@old.example", expecting: 201)
            let id = try #require(result.conversationId)
            let old = try await api.folder(
                "Old domain", rule: #"{"field": "contact.email", "op": "endsWith", "value": "@old.example"}"#)
            let new = try await api.folder(
                "New domain", rule: #"{"field": "contact.email", "op": "endsWith", "value": "@new.example"}"#)
            let gold = try await api.folder("Gold", rule: #"{"field": "contact.tag", "op": "equals", "value": "gold"}"#)
            #expect(try await api.ids(old) == [id])
            #expect(try await api.ids(new).isEmpty)
            #expect(try await api.ids(gold).isEmpty)

            // An agent edits the contact in the contacts service; the snapshot reaches conversations via the outbox.
            _ = try await cluster.contacts(as: .agent, sub: ada.id)
                .update(result.contactId, ContactPatch(emails: ["Mover@NEW.example"], tags: ["Gold"]))
            let followed = try await eventually(within: 15) { try await api.ids(new) == [id] }
            #expect(followed, "the folder on contact.email did not follow the contact's new email")
            #expect(try await api.ids(old).isEmpty)
            #expect(try await api.ids(gold) == [id])

            // And back: removing the tag takes it out again.
            _ = try await kit.contacts.update(result.contactId, ContactPatch(tags: []))
            let left = try await eventually(within: 15) { try await api.ids(gold).isEmpty }
            #expect(left, "the folder on contact.tag did not follow the removed tag")
            #expect(try await api.ids(new) == [id])
        }
    }

    @Test func aFoldersConversationsPageWithACursorAndNeverShowSpam() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let kit = ConversationKit(cluster)
            let api = SpamFolderAPI(cluster: cluster)
            let (_, ada) = try await kit.desk(capacity: PartialCounts(email: 50))
            let folder = try await api.folder(
                "Pages", rule: #"{"field": "conversation.subject", "op": "startsWith", "value": "page"}"#)
            var matching: [String] = []
            for index in 0..<12 {
                let subject = index % 3 == 2 ? "Other \(index)" : "Page \(index)"
                let id = try #require(
                    try await kit.inbound(.email, from: "pager\(index)@example.com", subject: subject, expecting: 201)
                        .conversationId)
                if index % 3 != 2 { matching.append(id) }
            }
            // The newest matching one is marked spam: it is never listed.
            let spam = try #require(matching.last)
            _ = try await api.markSpam(spam, sub: ada.id)
            let expected = Array(matching.dropLast().reversed())
            #expect(expected.count == 7)

            var seen: [String] = []
            var sizes: [Int] = []
            var cursor: String?
            repeat {
                let page = try await api.page(folder, query: "?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
                seen += page.items.map(\.id)
                sizes.append(page.items.count)
                cursor = page.nextCursor
            } while cursor != nil && sizes.count < 10
            #expect(seen == expected)
            #expect(sizes == [3, 3, 1])
            #expect(Set(seen).count == seen.count)

            let exact = try await api.page(folder, query: "?limit=7")
            #expect(exact.items.map(\.id) == expected)
            #expect(exact.nextCursor == nil)
            let whole = try await api.page(folder)
            #expect(whole.items.map(\.id) == expected)
            #expect(whole.nextCursor == nil)
            // Managers see the same folder: spam stays out whoever asks.
            #expect(try await api.page(folder, as: .administrator).items.map(\.id) == expected)

            for query in ["limit=0", "limit=501", "limit=abc", "cursor=xyz"] {
                let response = try await api.call("GET", "/v1/folders/\(folder)/conversations?\(query)", as: .agent)
                #expect(response.status == 400, "\(query)")
            }
        }
    }

    @Test func openAPIDocumentsTheSpamAndFolderRoutes() async throws {
        try await withServices([.conversations]) { cluster in
            let response = try await cluster.raw(.conversations).raw("GET", "/openapi.json")
            #expect(response.status == 200)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            for path in [
                "/v1/conversations/{id}/spam", "/v1/conversations/{id}/not-spam", "/v1/spam-filter", "/v1/folders",
                "/v1/folders/{id}", "/v1/folders/{id}/conversations",
            ] {
                #expect(paths[path] != nil, "openapi.json lacks \(path)")
            }
        }
    }
}

/// A smart folder's rule is held to `FolderRule.limits` when it is saved — 100 conditions, nested 8
/// deep, values of 1,000 characters, `in` lists of 100 — so that every rule accepted runs as one
/// SQLite query (a rule of 1,000 conditions was 201 and then every listing of it 500: SQLite's
/// "Expression tree is too large").
@Suite struct FolderRuleLimitTests {
    static let channelIsEmail = #"{"field": "conversation.channel", "op": "equals", "value": "email"}"#

    /// JSON texts joined as the items of a list.
    static func list(_ items: [String]) -> String { items.joined(separator: ", ") }

    /// A JSON list of these strings.
    static func strings(_ items: [String]) -> String { "[" + items.map { #""\#($0)""# }.joined(separator: ", ") + "]" }

    /// `{"all": [...]}` of 99 conditions, 100 in all: only ann is listed. The kinds cycle through a column,
    /// `in` lists of 100 over contact and conversation tags (side tables), a subject unequal to 1,000
    /// non-ASCII characters, and `not` a subject containing 1,000 `%` (a LIKE pattern of 2,002 bytes).
    static var widest: String {
        let kinds = [
            channelIsEmail,
            #"{"field": "contact.tag", "op": "in", "value": \#(strings(["VIP"] + (1..<100).map { "tier-\($0)" }))}"#,
            #"{"field": "conversation.tag", "op": "in", "value": \#(strings(["billing"] + (1..<100).map { "topic-\($0)" }))}"#,
            #"{"field": "conversation.subject", "op": "notEquals", "value": "\#(String(repeating: "ø", count: 1_000))"}"#,
            #"{"not": {"field": "conversation.subject", "op": "contains", "value": "\#(String(repeating: "%", count: 1_000))"}}"#,
        ]
        var parts: [String] = []
        var count = 1
        var index = 0
        while count < 100 {
            let kind = kinds[index % kinds.count]
            parts.append(kind)
            count += kind.hasPrefix(#"{"not""#) ? 2 : 1
            index += 1
        }
        return #"{"all": [\#(list(parts))]}"#
    }

    /// 8 levels, `all` and `any` in turn (a parenthesis each in SQL), 100 conditions: the 87 at the
    /// bottom hold for all (`NOT EXISTS` probes), so the rule is A ∧ (B ∨ (C ∧ (D ∨ E))): ann and bea.
    static var deepestAlternating: String {
        let a = channelIsEmail
        let b = #"{"field": "contact.tag", "op": "equals", "value": "gold"}"#
        let c = #"{"field": "conversation.subject", "op": "contains", "value": "invoice"}"#
        let d = #"{"field": "conversation.status", "op": "equals", "value": "open"}"#
        let e = #"{"field": "contact.email", "op": "endsWith", "value": "@super-important-customer.com"}"#
        let f = #"{"field": "conversation.channel", "op": "exists"}"#
        let bottom = (0..<87).map { index in
            index.isMultiple(of: 2)
                ? #"{"field": "conversation.tag", "op": "notEquals", "value": "nope-\#(index)"}"#
                : #"{"field": "contact.email", "op": "notEquals", "value": "nobody-\#(index)@example.com"}"#
        }
        let level7 = #"{"all": [\#(list(bottom))]}"#
        let level6 = #"{"any": [\#(f), \#(level7)]}"#
        let level5 = #"{"all": [\#(e), \#(level6)]}"#
        let level4 = #"{"any": [\#(d), \#(level5)]}"#
        let level3 = #"{"all": [\#(c), \#(level4)]}"#
        let level2 = #"{"any": [\#(b), \#(level3)]}"#
        return #"{"all": [\#(a), \#(level2)]}"#
    }

    /// 8 levels through `not`s, 100 conditions: the 90 at the bottom hold for none, so the rule is
    /// A ∧ ¬B ∧ C: ann and eve.
    static var deepestWithNot: String {
        let a = channelIsEmail
        let b = #"{"field": "contact.tag", "op": "equals", "value": "gold"}"#
        let c = #"{"field": "conversation.subject", "op": "contains", "value": "invoice"}"#
        let bottom = (0..<90).map { index in
            index.isMultiple(of: 2)
                ? #"{"field": "conversation.tag", "op": "equals", "value": "nope-\#(index)"}"#
                : #"{"field": "contact.email", "op": "equals", "value": "nobody-\#(index)@example.com"}"#
        }
        let level7 = #"{"any": [\#(list(bottom))]}"#
        let level5 = #"{"all": [\#(c), {"not": \#(level7)}]}"#
        let level3 = #"{"any": [\#(b), {"not": \#(level5)}]}"#
        return #"{"all": [\#(a), {"not": \#(level3)}]}"#
    }

    @Test func theLargestAcceptedRulesListTheirConversations() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let fixture = try await FolderFixture.make(cluster)
            for (name, rule, matches) in [
                ("widest", Self.widest, ["ann"]), ("deepest, all and any", Self.deepestAlternating, ["ann", "bea"]),
                ("deepest, with not", Self.deepestWithNot, ["ann", "eve"]),
            ] {
                var parser = ConditionParser(isAllowedField: { _ in true }, allowsDedicatedHero: false, fieldHelp: "")
                let json = try JSONDecoder().decode(JSONValue.self, from: Data(rule.utf8))
                _ = parser.parse(json, at: "rule")
                #expect(parser.conditionCount == 100, "\(name)")
                let folder = try await fixture.api.folder(name, rule: fixture.rule(rule))
                let listed = try await fixture.api.ids(folder)
                #expect(fixture.keys(listed) == fixture.keys(fixture.expected(matches)), "\(name)")
            }
        }
    }

    @Test func theServedOpenAPIDocumentStatesTheLimits() async throws {
        try await withServices([.conversations]) { cluster in
            let response = try await cluster.raw(.conversations).raw("GET", "/openapi.json")
            #expect(response.status == 200)
            let document = try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
            let schemas = document.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
            let value = schemas?["FolderCondition"]?.objectValue?["properties"]?.objectValue?["value"]?.objectValue
            let shapes = value?["oneOf"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(shapes.first?["maxLength"] == .number(1_000))
            #expect(shapes.last?["maxItems"] == .number(100))
            #expect(shapes.last?["items"]?.objectValue?["maxLength"] == .number(1_000))
            let create = document.objectValue?["paths"]?.objectValue?["/v1/folders"]?.objectValue?["post"]?.objectValue
            let description = create?["description"]?.stringValue ?? ""
            for limit in ["**100 conditions**", "**8 levels**", "**1,000 characters**", "**100 values**"] {
                #expect(description.contains(limit), "POST /v1/folders does not state \(limit)")
            }
        }
    }

    @Test func aRuleOverALimitIs422NamingItAndChangesNothing() async throws {
        try await withServices([.contacts, .routing, .conversations]) { cluster in
            let api = SpamFolderAPI(cluster: cluster)
            let good = try await api.folder("Good", rule: Self.channelIsEmail)
            let leaves = { (count: Int) in
                #"{"any": [\#(Self.list(Array(repeating: Self.channelIsEmail, count: count)))]}"#
            }
            let nested = { (levels: Int) in
                String(repeating: #"{"not": "#, count: levels - 1) + Self.channelIsEmail
                    + String(repeating: "}", count: levels - 1)
            }
            let refused: [(name: String, rule: String, field: String, limit: String)] = [
                ("1,000 conditions", leaves(999), "rule", "At most 100 conditions"),
                ("101 conditions", leaves(100), "rule", "At most 100 conditions"),
                ("9 levels", nested(9), "rule.not.not.not.not.not.not.not.not", "at most 8 levels"),
                (
                    "an in list of 101",
                    #"{"field": "conversation.tag", "op": "in", "value": \#(Self.strings((0...100).map { "t\($0)" }))}"#,
                    "rule.value",
                    "at most 100 values"
                ),
                (
                    "a value of 1,001 characters",
                    #"{"field": "conversation.subject", "op": "contains", "value": "\#(String(repeating: "a", count: 1_001))"}"#,
                    "rule.value", "at most 1000 characters"
                ),
            ]
            for (name, rule, field, limit) in refused {
                let body = #"{"name": "Too much", "rule": \#(rule)}"#
                for (method, path) in [("POST", "/v1/folders"), ("PUT", "/v1/folders/\(good)")] {
                    let response = try await api.call(method, path, json: body, as: .teamManager)
                    #expect(
                        response.status == 422, "\(name), \(method): \(String(decoding: response.body, as: UTF8.self))")
                    #expect(response.header("content-type") == "application/problem+json")
                    let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
                    let error = problem.errors?.first { $0.field == field }
                    #expect(error?.message.contains(limit) == true, "\(name), \(method): \(problem.errors ?? [])")
                }
            }
            let folders: Page<FolderBody> = try await api.expect(200, "GET", "/v1/folders", as: .agent)
            #expect(folders.items.map(\.name) == ["Good"])
            #expect(
                folders.items.first?.rule
                    == (try JSONDecoder().decode(JSONValue.self, from: Data(Self.channelIsEmail.utf8))))
        }
    }
}
