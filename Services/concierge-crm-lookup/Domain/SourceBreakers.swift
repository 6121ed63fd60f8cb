import ConciergeModels
import Foundation

/// The CRM sources' breakers as the outside learns of them. An opening or a closing is applied inside
/// a write transaction together with its event (`BreakerEvent`), so that the events follow the
/// transitions in their order and each transition is told exactly once; every other outcome (most of
/// them) is recorded at once, without a write.
struct SourceBreakers: Sendable {
    let breaker: CircuitBreaker
    let store: SourceStore

    /// Tells the breaker how a call to source `name` went.
    /// - Parameter lastError: how the call failed, for a failure (shown if it opens the breaker).
    /// - Throws: a storage error when the transition and its event could not be written; the breaker
    ///   has heard the outcome even then.
    func report(_ outcome: CircuitBreaker.Outcome, for name: String, lastError: String? = nil, now: Date) throws {
        guard !breaker.recordQuietly(outcome, for: name, now: now) else { return }
        var heard = false
        do {
            try store.write { tx in
                heard = true
                guard let transition = breaker.record(outcome, for: name, now: now) else { return }
                // A source deleted meanwhile has no state to show (its deletion closed the breaker).
                guard let stored = try tx.source(name) else { return }
                let event: BreakerEvent =
                    switch transition {
                    case .opened(let failures, let until):
                        .opened(failures: failures, until: until, lastError: lastError ?? "failed")
                    case .closed: .closed(by: .success)
                    }
                try tx.record(event, source: masked(stored, now: now))
            }
        } catch {
            // A trial left unreported would keep its source skipped for good: the breaker hears the
            // outcome even when the transaction could not begin. Only the event is lost then.
            if !heard { breaker.record(outcome, for: name, now: now) }
            throw error
        }
    }

    /// Saves a source (`PUT`), which closes its breaker, in one transaction with the event if the
    /// breaker was open; returns the source as reads show it.
    func save(_ stored: SourceStore.Stored, now: Date = Date()) throws -> Source {
        try store.write { tx in
            try tx.save(stored)
            if breaker.reset(stored.name) != nil {
                try tx.record(.closed(by: .update), source: masked(stored, now: now))
            }
            return masked(stored, now: now)
        }
    }

    /// Deletes a source and its cached answers, closing its breaker (with the event if it was open);
    /// `false` when there is no such source.
    func delete(_ name: String, now: Date = Date()) throws -> Bool {
        try store.write { tx in
            guard let stored = try tx.source(name), try tx.delete(name) else { return false }
            if breaker.reset(name) != nil {
                try tx.record(.closed(by: .deletion), source: masked(stored, now: now))
            }
            return true
        }
    }

    /// The source as reads show it, with its breaker's state at `now`.
    func masked(_ stored: SourceStore.Stored, now: Date = Date()) -> Source {
        Source(masking: stored, breaker: breaker.describe(stored.name, now: now))
    }
}
