import ConciergeModels
import Foundation
import Outbox
import ServiceRuntime
import Storage

extension ConversationStore {
    typealias Training = [(text: String, label: SpamFilter.Label, sign: Int)]

    /// Mark as spam: out of every list for good, its inbound messages trained as spam, its contact
    /// blocked (contacts service) and its assignment released (routing), both via the outbox.
    func markSpam(_ id: String) throws -> Conversation {
        try write { tx in
            let connection = tx.connection
            let conversation = try Self.conversation(connection, id)
            guard !conversation.spam else { return conversation }
            train(tx, try Self.retrain(tx, conversationID: id, as: .spam))
            try connection.run(
                "UPDATE conversations SET spam = 1, routing_state = 'none', queue_id = NULL, updated_at = ? WHERE id = ?",
                Timestamp.now(), id)
            try tx.enqueue(.release(id))
            try tx.enqueue(.block(contactID: conversation.contactId))
            let marked = try Self.conversation(connection, id)
            try tx.record(.spam, marked)
            return marked
        }
    }

    /// Seconds `POST …/not-spam` waits for routing to place the conversation again before it answers.
    static let notSpamRouteWait = 2.0

    /// Not spam: back in the lists, its messages trained as not spam, routed again; the contact
    /// stays blocked until a manager unblocks it. Returns the route request's outbox entry.
    func markNotSpam(_ id: String, contact: RouteContact) throws -> String? {
        try write { tx in
            let connection = tx.connection
            let conversation = try Self.conversation(connection, id)
            guard conversation.spam else { return nil }
            train(tx, try Self.retrain(tx, conversationID: id, as: .ham))
            try connection.run("UPDATE conversations SET spam = 0, updated_at = ? WHERE id = ?", Timestamp.now(), id)
            var entry: String?
            if conversation.status != .closed {
                entry = try Self.enqueueRoute(
                    tx,
                    RouteRequest(
                        conversationId: id, event: .new, channel: conversation.channel, contact: contact,
                        message: RouteMessage(id: "not-spam-" + Identifier.make())),
                    heldFor: Self.notSpamRouteWait)
            }
            try tx.record(.notSpam, try Self.conversation(connection, id))
            return entry
        }
    }

    /// The filter's counts as stored, to judge with from the start.
    static func spamModel(_ connection: Connection) throws -> SpamFilter.Model {
        var model = SpamFilter.Model()
        try connection.forEach("SELECT token, spam, ham FROM spam_tokens") { row in
            model.counts[row.string(0)] = (row.int(1), row.int(2))
        }
        try connection.forEach("SELECT class, documents, tokens FROM spam_documents") { row in
            if row.string(0) == "spam" {
                model.documents.spam = row.int(1)
                model.tokens.spam = row.int(2)
            } else {
                model.documents.ham = row.int(1)
                model.tokens.ham = row.int(2)
            }
        }
        return model
    }

    /// Adds (`sign` 1) or removes (`sign` −1) one document's words from a class, inside the caller's
    /// transaction (`train` mirrors it in memory once committed).
    static func recordTraining(_ tx: ConversationTransaction, _ text: String, as label: SpamFilter.Label, sign: Int)
        throws
    {
        let connection = tx.connection
        let words = SpamFilter.tokens(text)
        var grouped: [String: Int] = [:]
        for word in words { grouped[word, default: 0] += 1 }
        let column = label == .spam ? "spam" : "ham"
        for (word, count) in grouped {
            try connection.run(
                """
                INSERT INTO spam_tokens (token, \(column)) VALUES (?, max(0, ?))
                ON CONFLICT (token) DO UPDATE SET \(column) = max(0, \(column) + ?)
                """, word, count * sign, count * sign)
        }
        try connection.run(
            "UPDATE spam_documents SET documents = max(0, documents + ?), tokens = max(0, tokens + ?) WHERE class = ?",
            sign,
            words.count * sign, label.rawValue)
    }

    /// The filter in memory learns what this transaction stored, once it has committed.
    func train(_ tx: ConversationTransaction, _ training: Training) {
        guard !training.isEmpty else { return }
        tx.afterCommit { [spamFilter] in spamFilter.apply(training) }
    }

    /// Moves every inbound message of the conversation into `label`, undoing an earlier opposite training.
    static func retrain(_ tx: ConversationTransaction, conversationID: String, as label: SpamFilter.Label) throws
        -> Training
    {
        let connection = tx.connection
        let messages = try connection.query(
            "SELECT id, body, trained FROM messages WHERE conversation_id = ? AND direction = 'inbound'",
            [conversationID]
        ) { (id: $0.string(0), body: $0.string(1), trained: $0.optionalString(2)) }
        var training: Training = []
        for message in messages where message.trained != label.rawValue {
            if let previous = message.trained.flatMap(SpamFilter.Label.init(rawValue:)) {
                try Self.recordTraining(tx, message.body, as: previous, sign: -1)
                training.append((message.body, previous, -1))
            }
            try Self.recordTraining(tx, message.body, as: label, sign: 1)
            training.append((message.body, label, 1))
            try connection.run("UPDATE messages SET trained = ? WHERE id = ?", label.rawValue, message.id)
        }
        return training
    }

    /// Closing a conversation an agent replied to teaches the filter its customer messages are not spam.
    static func trainClosed(_ tx: ConversationTransaction, conversationID: String) throws -> Training {
        let connection = tx.connection
        let replied = try connection.first("SELECT replied FROM conversations WHERE id = ?", [conversationID]) {
            $0.bool(0)
        }
        guard replied == true else { return [] }
        let messages = try connection.query(
            "SELECT id, body FROM messages WHERE conversation_id = ? AND direction = 'inbound' AND trained IS NULL",
            [conversationID]
        ) { (id: $0.string(0), body: $0.string(1)) }
        for message in messages {
            try Self.recordTraining(tx, message.body, as: .ham, sign: 1)
            try connection.run("UPDATE messages SET trained = 'ham' WHERE id = ?", message.id)
        }
        return messages.map { ($0.body, .ham, 1) }
    }
}
