import ConciergeAuth
import ConciergeCore
import ConciergeModels
import Foundation
import Outbox
import Storage
import Synchronization

/// Routing's single source of truth at run time: `EngineState` in memory behind one lock, every
/// change written through to SQLite in the same step. Changes go through a `GroupWriter`: they run
/// one at a time on its thread, and those made while a transaction commits share the next one, so
/// a burst of decisions costs a few commits rather than one each. A request that fails validation
/// changes nothing; if storage itself fails, the transaction is rolled back whole and the state is
/// reloaded from the database.
final class RoutingEngine: Sendable {
    let store: RoutingStore
    let workflows: WorkflowStore
    let runner: WorkflowRunner
    let outbox: Outbox
    let metrics: Metrics
    let gate = ConversationGate()
    private let state: Mutex<EngineState>
    /// Ids of deactivated agents, apart from `state`: every request's token check reads it, and
    /// the state's lock is held for whole changes (SQL included) — measured as 7 % of routing's CPU in
    /// contended futex calls when token checks took that lock (see BENCHMARKS.md).
    private let inactive: Mutex<Set<String>>
    private let writer: GroupWriter

    init(store: RoutingStore, workflows: WorkflowStore, runner: WorkflowRunner, outbox: Outbox, metrics: Metrics) throws
    {
        self.store = store
        self.workflows = workflows
        self.runner = runner
        self.outbox = outbox
        self.metrics = metrics
        metrics.declare(
            "concierge_routing_decisions_total", help: Self.decisionsHelp,
            labelSets: [RoutingState.assigned, .queued, .none, .awaitingCustomer].map { [("outcome", $0.rawValue)] })
        let snapshot = try store.load()
        state = Mutex(EngineState(snapshot))
        inactive = Mutex(Self.inactiveIDs(snapshot))
        // Decisions commit on the event loops that read their requests, in turn, not on a writer
        // thread (`runsOnCallers`): no hop to another thread and back per decision.
        writer = GroupWriter(db: store.db, runsOnCallers: true) { $0 is RoutingError }
        writer.onAbort = { [weak self] in self?.reload() }
        // A decision that finds another committing waits for it on its own loop without sleeping,
        // if that loop has nothing else to do: a wake-up through the host costs more than the wait
        // (`Benchmarks/routing.sh`; BENCHMARKS.md, "a decision that finds another committing waits").
        writer.spinMicroseconds = 200
        writer.maySpin = { EventLoopContext.isOnIdleLoop }
        writer.start()
    }

    /// Runs `body` on the state inside the writer's next transaction and returns once that has
    /// committed. Domain errors (`RoutingError`) must be thrown before the state is touched: they undo
    /// only this change. Any other failure rolls the transaction back and reloads the state. The
    /// decisions `body` saved are recorded as events after the events it recorded itself.
    func change<T: Sendable>(_ body: @escaping @Sendable (inout EngineState, RoutingTransaction) throws -> T)
        async throws -> T
    {
        try await writer.write { connection in
            try self.state.withLock { current in
                let tx = RoutingTransaction(connection: connection, events: self.store.events)
                let value = try body(&current, tx)
                try tx.recordDecisions()
                return value
            }
        }
    }

    /// After a rolled-back transaction, the state goes back to what the database holds.
    private func reload() {
        guard let snapshot = try? store.load() else { return }
        state.withLock { $0 = EngineState(snapshot) }
        inactive.withLock { $0 = Self.inactiveIDs(snapshot) }
    }

    private static func inactiveIDs(_ snapshot: RoutingStore.Snapshot) -> Set<String> {
        Set(snapshot.agents.filter { !$0.active }.map(\.id))
    }

    /// Records a committed deactivation or reactivation for token checks.
    func setInactive(_ agentID: String, _ isInactive: Bool) {
        inactive.withLock { ids in
            if isInactive { ids.insert(agentID) } else { ids.remove(agentID) }
        }
    }

    /// Whether the agent with this id was deactivated (tokens of unknown subjects are not refused here).
    func isDeactivated(_ agentID: String) -> Bool {
        inactive.withLock { $0.contains(agentID) }
    }

    func read<T: Sendable>(_ body: (EngineState) throws -> T) rethrows -> T {
        try state.withLock { try body($0) }
    }

    static let decisionsHelp = "Routing decisions by outcome."

    /// Counts a decision by outcome for `/metrics`.
    func count(_ result: RouteResult) {
        metrics.increment(
            "concierge_routing_decisions_total", labels: [("outcome", result.routingState.rawValue)],
            help: Self.decisionsHelp)
    }
}

/// Lets one routing request per conversation run at a time, so a workflow run (which awaits CRM
/// lookups outside the engine lock) is never resumed twice at once. Later requests for the same
/// conversation wait in arrival order, suspended (no polling), and each is handed the gate in turn.
final class ConversationGate: Sendable {
    /// Conversations whose gate is taken, each with the requests waiting for it, oldest first.
    private let taken = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func run<T: Sendable>(_ conversationID: String, _ body: () async throws -> T) async throws -> T {
        await enter(conversationID)
        defer { leave(conversationID) }
        return try await body()
    }

    /// Whether anyone holds or waits for the conversation's gate (for tests).
    func isTaken(_ conversationID: String) -> Bool { taken.withLock { $0[conversationID] != nil } }

    /// Requests waiting for the conversation's gate (for tests).
    func waiting(_ conversationID: String) -> Int { taken.withLock { $0[conversationID]?.count ?? 0 } }

    private func enter(_ conversationID: String) async {
        let isFree = taken.withLock { taken in
            guard taken[conversationID] == nil else { return false }
            taken[conversationID] = []
            return true
        }
        if isFree { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isFreeNow = taken.withLock { taken in
                guard taken[conversationID] != nil else {
                    taken[conversationID] = []
                    return true
                }
                taken[conversationID]?.append(continuation)
                return false
            }
            if isFreeNow { continuation.resume() }
        }
    }

    /// Hands the gate to the oldest waiting request, or frees it.
    private func leave(_ conversationID: String) {
        let next = taken.withLock { taken -> CheckedContinuation<Void, Never>? in
            guard var waiting = taken[conversationID], !waiting.isEmpty else {
                taken[conversationID] = nil
                return nil
            }
            let next = waiting.removeFirst()
            taken[conversationID] = waiting
            return next
        }
        next?.resume()
    }
}

/// Deactivated agents' tokens are refused at once by routing (SPEC §2).
struct AgentRevocation: TokenRevocation {
    let engine: RoutingEngine
    func isRevoked(subject: String) -> Bool {
        engine.isDeactivated(subject)
    }
}
