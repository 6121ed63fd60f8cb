import Events
import Foundation
import Storage
import TestSupport
import Testing

@testable import ConversationsService

/// The spam filter's arithmetic (SPEC §6): multinomial naive Bayes, add-one smoothing, judged only
/// from 5 spam + 5 not-spam documents, over lower-cased runs of Unicode letters and digits.
@Suite struct SpamFilterTests {
    /// A hand-built model. Vocabulary V = {free, money, meeting, report}, |V| = 4.
    ///
    ///     word      spam  ham
    ///     free        8    1
    ///     money       5    2
    ///     meeting     1    5
    ///     report      2    8
    ///     tokens     16   16      so every P(w|c) = (count + 1) / (16 + 4) = (count + 1) / 20
    static func model(spamDocuments: Int = 5, hamDocuments: Int = 5) -> SpamFilter.Model {
        var model = SpamFilter.Model()
        model.counts = ["free": (8, 1), "money": (5, 2), "meeting": (1, 5), "report": (2, 8)]
        model.documents = (spamDocuments, hamDocuments)
        model.tokens = (16, 16)
        return model
    }

    // MARK: The posterior, computed on paper

    @Test func posteriorMatchesTheHandComputationWithEqualPriors() throws {
        // Priors: P(spam) = 5/10, P(ham) = 5/10; ln 0.5 = −0.693147180559945 on both sides.
        //
        //   word      P(w|spam)            ln            P(w|ham)            ln
        //   free      (8+1)/20 = 0.45   −0.798507696     (1+1)/20 = 0.10   −2.302585093
        //   money     (5+1)/20 = 0.30   −1.203972804     (2+1)/20 = 0.15   −1.897119985
        //   meeting   (1+1)/20 = 0.10   −2.302585093     (5+1)/20 = 0.30   −1.203972804
        //
        //   logSpam = −0.693147181 − 0.798507696 − 1.203972804 − 2.302585093 = −4.998212774
        //   logHam  = −0.693147181 − 2.302585093 − 1.897119985 − 1.203972804 = −6.096825063
        //   logHam − logSpam = −1.098612289 = ln(1/3)   (= ln((2·3·6) / (9·6·2)) = ln(36/108))
        //   P(spam) = 1 / (1 + e^(logHam − logSpam)) = 1 / (1 + 1/3) = 0.75
        let p = try #require(SpamFilter.probability(["free", "money", "meeting"], Self.model()))
        #expect(abs(p - 0.75) < 1e-9, "P(spam) = \(p)")
    }

    @Test func posteriorMatchesTheHandComputationWithUnequalPriorsAndDenominators() throws {
        // The model above plus "invoice" (spam 0, ham 10): |V| = 5, tokens spam 16, ham 26,
        // so P(w|spam) = (count + 1) / 21 and P(w|ham) = (count + 1) / 31. Documents 6 spam, 9 ham.
        var model = Self.model(spamDocuments: 6, hamDocuments: 9)
        model.counts["invoice"] = (0, 10)
        model.tokens = (16, 26)
        // Priors: ln(6/15) = −0.916290732, ln(9/15) = −0.510825624.
        //
        //   word      P(w|spam)          ln            P(w|ham)           ln
        //   free      9/21 = 3/7     −0.847297860      2/31           −2.740840024
        //   report    3/21 = 1/7     −1.945910149      9/31           −1.236762627
        //   invoice   1/21           −3.044522438     11/31           −1.036091932
        //   free      3/7            −0.847297860      2/31           −2.740840024
        //
        //   logSpam = −0.916290732 − 0.847297860 − 1.945910149 − 3.044522438 − 0.847297860 = −7.601319039
        //   logHam  = −0.510825624 − 2.740840024 − 1.236762627 − 1.036091932 − 2.740840024 = −8.265360230
        //   logHam − logSpam = −0.664041191
        //   P(spam) = 1 / (1 + e^−0.664041191) = 0.660167600840363
        //   Exactly: (2/5·3/7·1/7·1/21·3/7) / (that + 3/5·2/31·9/31·11/31·2/31) = 923521 / 1398919.
        let p = try #require(SpamFilter.probability(["free", "report", "invoice", "free"], model))
        #expect(abs(p - 923_521.0 / 1_398_919.0) < 1e-9, "P(spam) = \(p)")
        #expect(abs(p - 0.660167600840363) < 1e-9)
    }

    @Test func aRepeatedWordCountsOncePerOccurrence() throws {
        // "free free": ratio ham/spam = (2/20 · 2/20) / (9/20 · 9/20) = 4/81 → P = 1 / (1 + 4/81) = 81/85.
        let p = try #require(SpamFilter.probability(["free", "free"], Self.model()))
        #expect(abs(p - 81.0 / 85.0) < 1e-9, "P(spam) = \(p)")
    }

    @Test func unknownWordsAreIgnored() throws {
        let known = try #require(SpamFilter.probability(["free", "money", "meeting"], Self.model()))
        let withUnknown = try #require(
            SpamFilter.probability(["zebra", "free", "quux", "money", "meeting", "æblegrød"], Self.model()))
        #expect(abs(withUnknown - known) < 1e-12)
        #expect(abs(withUnknown - 0.75) < 1e-9)
        // Nothing known at all: only the priors speak (5/10 → 0.5; 6 spam of 15 → 0.4).
        let onlyUnknown = try #require(SpamFilter.probability(["zebra", "quux"], Self.model()))
        #expect(abs(onlyUnknown - 0.5) < 1e-9)
        let priorOnly = try #require(SpamFilter.probability([], Self.model(spamDocuments: 6, hamDocuments: 9)))
        #expect(abs(priorOnly - 0.4) < 1e-9)
    }

    @Test(arguments: [(0, 0), (4, 5), (5, 4), (4, 100), (100, 4)])
    func tooFewTrainingDocumentsMeansNoJudgement(spam: Int, ham: Int) {
        #expect(SpamFilter.probability(["free", "money"], Self.model(spamDocuments: spam, hamDocuments: ham)) == nil)
    }

    @Test func fiveAndFiveDocumentsAreEnoughToJudge() {
        #expect(SpamFilter.minimumDocuments == 5)
        #expect(SpamFilter.threshold == 0.95)
        #expect(SpamFilter.probability(["free"], Self.model(spamDocuments: 5, hamDocuments: 5)) != nil)
    }

    @Test func overwhelmingEvidenceStaysFiniteAndInRange() throws {
        // 400 spam words: e^(logHam − logSpam) underflows towards 0, never NaN; and the reverse.
        let spammy = try #require(SpamFilter.probability(Array(repeating: "free", count: 400), Self.model()))
        #expect(spammy.isFinite && spammy <= 1 && spammy > 0.999_999)
        let hammy = try #require(SpamFilter.probability(Array(repeating: "report", count: 400), Self.model()))
        #expect(hammy.isFinite && hammy >= 0 && hammy < 0.000_001)
    }

    // MARK: Tokens

    @Test(arguments: [
        ("Æblegrød på tilbud!!", ["æblegrød", "på", "tilbud"]),
        ("ØL & SMØRREBRØD, kun 25 kr.", ["øl", "smørrebrød", "kun", "25", "kr"]),
        ("Größe: 50% RABATT auf Straßenschuhe", ["größe", "50", "rabatt", "auf", "straßenschuhe"]),
        ("GROẞE Grüße", ["große", "grüße"]),
        ("Tylko 99,99 zł! ŻÓŁĆ", ["tylko", "99", "99", "zł", "żółć"]),
        ("WIN $1000 now!!! Click->here", ["win", "1000", "now", "click", "here"]),
        ("don't stop_me", ["don", "t", "stop", "me"]),
        ("  \n\t!!  ", []),
        ("", []),
    ])
    func tokensAreLowerCasedRunsOfLettersAndDigits(text: String, expected: [String]) {
        #expect(SpamFilter.tokens(text) == expected)
    }

    // MARK: Training on disk

    /// `recordTraining` (inside a transaction) and `apply` (after it) keep the database and memory
    /// equal: a filter loaded from the file judges exactly as the one that learned.
    @Test func trainingIsStoredAndReloadsToTheSameJudgement() throws {
        try withTemporaryFolder { folder in
            let db = try Database(path: folder + "/conversations.sqlite", migrations: ConversationMigrations.all)
            let events = try EventLog(db: db, service: "conversations")
            func loaded() throws -> SpamFilter {
                SpamFilter(model: try db.read { try ConversationStore.spamModel($0) })
            }
            let filter = try loaded()
            #expect(filter.summary == SpamFilter.Summary(spamDocuments: 0, hamDocuments: 0, vocabulary: 0))
            let spam = [
                "Free money now", "Claim your free prize", "Cheap pills free shipping", "You won money, claim now",
                "Free free free casino bonus",
            ]
            let ham = [
                "Meeting moved to Tuesday", "Please send the quarterly report", "Invoice for the March order",
                "Can we reschedule the meeting?", "The report is attached",
            ]
            var training: [(text: String, label: SpamFilter.Label, sign: Int)] = []
            try db.write { connection in
                for text in spam {
                    try ConversationStore.recordTraining(
                        ConversationTransaction(connection: connection, events: events), text, as: .spam, sign: 1)
                    training.append((text, .spam, 1))
                }
                for text in ham {
                    try ConversationStore.recordTraining(
                        ConversationTransaction(connection: connection, events: events), text, as: .ham, sign: 1)
                    training.append((text, .ham, 1))
                }
            }
            filter.apply(training)
            let vocabulary = Set((spam + ham).flatMap(SpamFilter.tokens)).count
            #expect(filter.summary == SpamFilter.Summary(spamDocuments: 5, hamDocuments: 5, vocabulary: vocabulary))
            #expect(filter.isSpam("free money, claim your free prize now"))
            #expect(!filter.isSpam("the meeting report is attached"))

            let reloaded = try loaded()
            #expect(reloaded.summary == filter.summary)
            for text in ["free money", "meeting report", "claim the invoice", "nothing known here"] {
                let before = try #require(filter.probability(text))
                let after = try #require(reloaded.probability(text))
                #expect(abs(before - after) < 1e-12, "\(text)")
            }

            // Untraining one spam document drops it below the 5 needed to judge, on disk and in memory.
            try db.write { connection in
                try ConversationStore.recordTraining(
                    ConversationTransaction(connection: connection, events: events), spam[0], as: .spam, sign: -1)
            }
            filter.apply([(spam[0], .spam, -1)])
            #expect(filter.summary.spamDocuments == 4)
            #expect(filter.probability("free money") == nil)
            #expect(!filter.isSpam("free money, claim your free prize now"))
            #expect(try loaded().summary == filter.summary)
        }
    }
}
