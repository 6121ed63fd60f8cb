import Auth
import Foundation
import HTTPServer
import Models
import Outbox
import Storage
import Synchronization

/// Routing's single source of truth at run time: `EngineState` in memory behind one lock, every
/// change written through to SQLite in the same step. A request that fails validation changes
/// nothing; if storage itself fails mid-change, the state is reloaded from the database.
final class RoutingEngine: Sendable {
    let store: RoutingStore
    let workflows: WorkflowStore
    let runner: WorkflowRunner
    let outbox: Outbox
    let metrics: Metrics
    let gate = ConversationGate()
    private let state: Mutex<EngineState>

    init(store: RoutingStore, workflows: WorkflowStore, runner: WorkflowRunner, outbox: Outbox, metrics: Metrics) throws {
        self.store = store
        self.workflows = workflows
        self.runner = runner
        self.outbox = outbox
        self.metrics = metrics
        state = Mutex(EngineState(try store.load()))
    }

    /// Runs `body` on the state inside one write transaction. Domain errors must be thrown before
    /// the state is touched; any other failure reloads the state from disk.
    func change<T: Sendable>(_ body: (inout EngineState, Connection) throws -> T) throws -> T {
        let db = store.db
        let result: T = try state.withLock { (current: inout EngineState) throws -> T in
            do {
                return try db.write { connection in try body(&current, connection) }
            } catch let error as RoutingError {
                throw error
            } catch {
                if let snapshot = try? store.load() { current = EngineState(snapshot) }
                throw error
            }
        }
        outbox.notify()
        return result
    }

    func read<T: Sendable>(_ body: (EngineState) throws -> T) rethrows -> T {
        try state.withLock { try body($0) }
    }

    /// Counts a decision by outcome for `/metrics`.
    func count(_ result: RouteResult) {
        metrics.increment(
            "concierge_routing_decisions_total", labels: [("outcome", result.routingState.rawValue)],
            help: "Routing decisions by outcome.")
    }
}

/// Lets one routing request per conversation run at a time, so a workflow run (which awaits CRM
/// lookups outside the engine lock) is never resumed twice at once.
final class ConversationGate: Sendable {
    private let busy = Mutex<Set<String>>([])

    func run<T: Sendable>(_ conversationID: String, _ body: () async throws -> T) async throws -> T {
        while !busy.withLock({ $0.insert(conversationID).inserted }) {
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        defer { _ = busy.withLock { $0.remove(conversationID) } }
        return try await body()
    }
}

/// Deactivated agents' tokens are refused at once by routing (SPEC §2).
struct AgentRevocation: TokenRevocation {
    let engine: RoutingEngine
    func isRevoked(subject: String) -> Bool {
        engine.read { state in state.agents[subject].map { !$0.active } ?? false }
    }
}
