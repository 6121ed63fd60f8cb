import Foundation
import Storage
import Synchronization

/// The learning spam filter (SPEC §6): multinomial naive Bayes over lower-cased word tokens
/// (Unicode letters and digits), add-one smoothing, log-space arithmetic. Counts live in SQLite and
/// are mirrored in memory so judging a message needs no query.
final class SpamFilter: Sendable {
    enum Label: String, Sendable { case spam, ham }

    /// Training documents of each class needed before the filter judges (SPEC §6: 5 and 5).
    static let minimumDocuments = 5
    /// P(spam) at or above which a message is spam (SPEC §6: 0.95).
    static let threshold = 0.95

    struct Model: Sendable {
        var counts: [String: (spam: Int, ham: Int)] = [:]
        var documents: (spam: Int, ham: Int) = (0, 0)
        var tokens: (spam: Int, ham: Int) = (0, 0)
    }

    private let model: Mutex<Model>

    init(db: Database) throws {
        var loaded = Model()
        try db.read { connection in
            try connection.forEach("SELECT token, spam, ham FROM spam_tokens") { row in
                loaded.counts[row.string(0)] = (row.int(1), row.int(2))
            }
            try connection.forEach("SELECT class, documents, tokens FROM spam_documents") { row in
                if row.string(0) == "spam" {
                    loaded.documents.spam = row.int(1)
                    loaded.tokens.spam = row.int(2)
                } else {
                    loaded.documents.ham = row.int(1)
                    loaded.tokens.ham = row.int(2)
                }
            }
        }
        model = Mutex(loaded)
    }

    /// P(spam | text), or `nil` while the filter has too few examples to judge.
    func probability(_ text: String) -> Double? {
        let words = Self.tokens(text)
        return model.withLock { model in Self.probability(words, model) }
    }

    static func probability(_ words: [String], _ model: Model) -> Double? {
        guard model.documents.spam >= minimumDocuments, model.documents.ham >= minimumDocuments else { return nil }
        let vocabulary = Double(model.counts.count)
        let total = Double(model.documents.spam + model.documents.ham)
        var logSpam = log(Double(model.documents.spam) / total)
        var logHam = log(Double(model.documents.ham) / total)
        let spamDenominator = Double(model.tokens.spam) + vocabulary
        let hamDenominator = Double(model.tokens.ham) + vocabulary
        for word in words {
            // Words never seen in training carry no evidence either way and are skipped.
            guard let count = model.counts[word] else { continue }
            logSpam += log(Double(count.spam + 1) / spamDenominator)
            logHam += log(Double(count.ham + 1) / hamDenominator)
        }
        // P(spam) = 1 / (1 + e^(logHam − logSpam)), stable for large differences.
        return 1 / (1 + exp(logHam - logSpam))
    }

    func isSpam(_ text: String) -> Bool {
        guard let p = probability(text) else { return false }
        return p >= Self.threshold
    }

    struct Summary: Codable, Sendable, Equatable {
        var spamDocuments: Int
        var hamDocuments: Int
        var vocabulary: Int
    }

    var summary: Summary {
        model.withLock { Summary(spamDocuments: $0.documents.spam, hamDocuments: $0.documents.ham, vocabulary: $0.counts.count) }
    }

    /// Adds (`sign` 1) or removes (`sign` −1) one document's words from a class, on disk inside the
    /// caller's transaction; call `apply` with the same arguments after it commits.
    static func record(_ connection: Connection, _ text: String, as label: Label, sign: Int) throws {
        let words = tokens(text)
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
            "UPDATE spam_documents SET documents = max(0, documents + ?), tokens = max(0, tokens + ?) WHERE class = ?", sign,
            words.count * sign, label.rawValue)
    }

    /// Mirrors committed training in memory.
    func apply(_ changes: [(text: String, label: Label, sign: Int)]) {
        model.withLock { model in
            for change in changes {
                let words = Self.tokens(change.text)
                for word in words {
                    var count = model.counts[word] ?? (0, 0)
                    if change.label == .spam { count.spam = max(0, count.spam + change.sign) } else { count.ham = max(0, count.ham + change.sign) }
                    model.counts[word] = count
                }
                if change.label == .spam {
                    model.documents.spam = max(0, model.documents.spam + change.sign)
                    model.tokens.spam = max(0, model.tokens.spam + words.count * change.sign)
                } else {
                    model.documents.ham = max(0, model.documents.ham + change.sign)
                    model.tokens.ham = max(0, model.tokens.ham + words.count * change.sign)
                }
            }
        }
    }
}
