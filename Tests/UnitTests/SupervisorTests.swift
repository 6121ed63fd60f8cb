import Testing

@testable import ConciergeCLI

/// `concierge up`'s restart and stop policy, driven by events and a clock in seconds, no processes.
@Suite struct SupervisorTests {
    private static let names = ["contacts", "routing"]

    private static func running(at now: Double = 0) -> Supervisor {
        var supervisor = Supervisor(services: names)
        _ = supervisor.begin()
        for name in names { _ = supervisor.handle(.started(name), at: now) }
        return supervisor
    }

    @Test func beginStartsEveryChildInOrder() {
        var supervisor = Supervisor(services: Self.names)
        #expect(supervisor.begin() == [.start("contacts"), .start("routing")])
        #expect(supervisor.alive == Self.names)
    }

    @Test func aCrashRestartsAfterAPauseThatDoublesUpToTheCeiling() {
        var supervisor = Self.running()
        var delays: [Double] = []
        var now = 1.0
        for _ in 0..<9 {
            let actions = supervisor.handle(.exited("routing"), at: now)
            guard case .restart("routing", let delay) = actions.first, actions.count == 1 else {
                Issue.record("expected one restart, got \(actions)")
                return
            }
            delays.append(delay)
            #expect(supervisor.alive == ["contacts"])
            #expect(supervisor.handle(.restartDue("routing"), at: now + delay) == [.start("routing")])
            _ = supervisor.handle(.started("routing"), at: now + delay)
            now += delay + 1
        }
        #expect(delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
    }

    @Test func aChildThatRanLongEnoughStartsAgainFromTheFirstPause() {
        var supervisor = Self.running()
        _ = supervisor.handle(.exited("routing"), at: 1)
        _ = supervisor.handle(.restartDue("routing"), at: 1.5)
        _ = supervisor.handle(.started("routing"), at: 1.5)
        // Ran for 60 s: this crash counts as a first one again.
        #expect(supervisor.handle(.exited("routing"), at: 61.5) == [.restart("routing", after: 0.5)])
    }

    @Test func stopTerminatesTheLivingAndFinishesWhenAllHaveExited() {
        var supervisor = Self.running()
        _ = supervisor.handle(.exited("routing"), at: 1)  // waiting to restart: not signalled, never restarted
        #expect(
            supervisor.handle(.stopRequested(exitCode: 0), at: 2) == [
                .terminate(["contacts"]), .scheduleKill(after: 12),
            ])
        #expect(supervisor.handle(.restartDue("routing"), at: 2.5) == [])
        #expect(supervisor.handle(.stopRequested(exitCode: 1), at: 2.6) == [], "the first stop counts")
        #expect(supervisor.handle(.exited("contacts"), at: 3) == [.finish(exitCode: 0)])
    }

    @Test func childrenThatIgnoreSIGTERMAreKilledAfterTheGracePeriod() {
        var supervisor = Self.running()
        _ = supervisor.handle(.stopRequested(exitCode: 0), at: 1)
        _ = supervisor.handle(.exited("contacts"), at: 2)
        #expect(supervisor.handle(.stopGraceExpired, at: 13) == [.kill(["routing"])])
        #expect(supervisor.handle(.exited("routing"), at: 13.1) == [.finish(exitCode: 0)])
    }

    @Test func aChildLaunchedWhileStoppingIsTerminatedAtOnce() {
        var supervisor = Supervisor(services: Self.names)
        _ = supervisor.begin()
        _ = supervisor.handle(.started("contacts"), at: 0)
        #expect(
            supervisor.handle(.stopRequested(exitCode: 1), at: 0.1) == [
                .terminate(["contacts", "routing"]), .scheduleKill(after: 12),
            ])
        #expect(supervisor.handle(.started("routing"), at: 0.2) == [.terminate(["routing"])])
    }
}
