import Foundation
import Synchronization

/// The learning spam filter: multinomial naive Bayes over lower-cased word tokens (Unicode letters
/// and digits), add-one smoothing, log-space arithmetic; a message is spam at P(spam) ≥ 0.95 once
/// it has learned from at least 5 spam and 5 other messages. Counts live in SQLite (written by
/// `ConversationStore` in the transaction that trains) and are mirrored here, so judging a message
/// needs no query.
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

    /// A filter that judges with `model` (counts loaded by `ConversationStore.spamModel`).
    init(model: Model = Model()) {
        self.model = Mutex(model)
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
        model.withLock {
            Summary(spamDocuments: $0.documents.spam, hamDocuments: $0.documents.ham, vocabulary: $0.counts.count)
        }
    }

    /// Mirrors committed training in memory.
    func apply(_ changes: [(text: String, label: Label, sign: Int)]) {
        model.withLock { model in
            for change in changes {
                let words = Self.tokens(change.text)
                for word in words {
                    var count = model.counts[word] ?? (0, 0)
                    if change.label == .spam {
                        count.spam = max(0, count.spam + change.sign)
                    } else {
                        count.ham = max(0, count.ham + change.sign)
                    }
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
