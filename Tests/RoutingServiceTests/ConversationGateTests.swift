import Synchronization
import Testing

@testable import RoutingService

/// `ConversationGate`: one request per conversation at a time, the others suspended in arrival order.
@Suite struct ConversationGateTests {
    @Test func requestsForOneConversationRunOneAtATimeInArrivalOrder() async throws {
        let gate = ConversationGate()
        let order = Recorder()
        let release = Latch()
        // The first request holds the gate until released.
        let first = Task {
            try await gate.run("c1") {
                order.append(0)
                await release.wait()
            }
        }
        try await waitUntil { gate.isTaken("c1") && order.values == [0] }
        // Three more arrive one after another; each waits (suspended) until the gate is handed to it.
        var others: [Task<Void, any Error>] = []
        for n in 1...3 {
            others.append(
                Task {
                    try await gate.run("c1") {
                        let running = order.values
                        #expect(running.count == n, "request \(n) ran while \(running) had run")
                        order.append(n)
                        await Task.yield()
                    }
                })
            try await waitUntil { gate.waiting("c1") == n }
        }
        #expect(order.values == [0], "nobody ran while the gate was held")
        release.open()
        try await first.value
        for task in others { try await task.value }
        #expect(order.values == [0, 1, 2, 3])
        #expect(!gate.isTaken("c1"), "the gate is free once the last request left")
    }

    @Test func otherConversationsDoNotWait() async throws {
        let gate = ConversationGate()
        let release = Latch()
        let holder = Task { try await gate.run("busy") { await release.wait() } }
        try await waitUntil { gate.isTaken("busy") }
        let value = try await gate.run("other") { 42 }
        #expect(value == 42)
        release.open()
        try await holder.value
    }

    @Test func aThrowingRequestStillHandsTheGateOn() async throws {
        struct Failure: Error {}
        let gate = ConversationGate()
        await #expect(throws: Failure.self) { try await gate.run("c") { throw Failure() } }
        #expect(!gate.isTaken("c"))
        #expect(try await gate.run("c") { "next" } == "next")
    }
}

/// Which requests ran, in order.
private final class Recorder: Sendable {
    private let storage = Mutex<[Int]>([])
    func append(_ value: Int) { storage.withLock { $0.append(value) } }
    var values: [Int] { storage.withLock { $0 } }
}

/// A one-shot gate for tests: `wait` suspends until `open`.
private final class Latch: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Yields until `condition` holds, for up to 5 s.
private func waitUntil(_ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(5)
    while !condition() {
        try #require(clock.now < deadline, "timed out")
        await Task.yield()
    }
}
