/// What `concierge up` does with its children: restart one that exits after a pause that doubles per
/// crash, and on request stop them all, SIGTERM first and SIGKILL after a grace period.
/// Events in, actions out; time arrives as seconds on a monotonic clock, so it is tested without processes.
struct Supervisor {
    struct Policy: Equatable, Sendable {
        /// Pause before the first restart, in seconds; doubles with each further crash. Default 0.5 s.
        var initialDelay = 0.5
        /// Longest pause between restarts, in seconds; default 30 s.
        var maximumDelay = 30.0
        /// Seconds a child must run before its next crash counts as a first one again; default 60 s.
        var healthyAfter = 60.0
        /// Seconds children get to exit after SIGTERM before SIGKILL; default 12 s (the services drain for 10).
        var stopGrace = 12.0
    }

    enum Event: Equatable, Sendable {
        /// The child was launched.
        case started(String)
        /// The child exited, or could not be launched.
        case exited(String)
        /// A restart pause asked for by `.restart` is over.
        case restartDue(String)
        /// Stop everything and finish with `exitCode` (a signal: 0; a failed start-up: 1).
        case stopRequested(exitCode: Int32)
        /// The grace period asked for by `.scheduleKill` is over.
        case stopGraceExpired
    }

    enum Action: Equatable, Sendable {
        /// Launch the child now.
        case start(String)
        /// Deliver `.restartDue` for the child after this many seconds.
        case restart(String, after: Double)
        /// Send SIGTERM to these children.
        case terminate([String])
        /// Deliver `.stopGraceExpired` after this many seconds.
        case scheduleKill(after: Double)
        /// Send SIGKILL to these children.
        case kill([String])
        /// Every child has stopped: exit with this status.
        case finish(exitCode: Int32)
    }

    enum Phase: Equatable, Sendable {
        case starting
        case running(since: Double)
        case waitingToRestart
        case stopped
    }

    let policy: Policy
    /// The children in start order.
    let names: [String]
    private(set) var phases: [String: Phase] = [:]
    /// The pause before each child's next restart.
    private(set) var nextDelays: [String: Double] = [:]
    /// Set once a stop is requested: the status to finish with.
    private(set) var stopExitCode: Int32?

    init(services names: [String], policy: Policy = Policy()) {
        self.policy = policy
        self.names = names
        for name in names {
            phases[name] = .stopped
            nextDelays[name] = policy.initialDelay
        }
    }

    /// Starts every child.
    mutating func begin() -> [Action] {
        for name in names { phases[name] = .starting }
        return names.map { .start($0) }
    }

    mutating func handle(_ event: Event, at now: Double) -> [Action] {
        switch event {
        case .started(let name):
            phases[name] = .running(since: now)
            // Launched while a stop was being requested: it must not outlive the others.
            return stopExitCode == nil ? [] : [.terminate([name])]
        case .exited(let name):
            return exited(name, at: now)
        case .restartDue(let name):
            guard stopExitCode == nil, phases[name] == .waitingToRestart else { return [] }
            phases[name] = .starting
            return [.start(name)]
        case .stopRequested(let exitCode):
            // Signals often come twice (to `up` and to its process group); the first one counts.
            guard stopExitCode == nil else { return [] }
            stopExitCode = exitCode
            for name in names where phases[name] == .waitingToRestart { phases[name] = .stopped }
            let running = alive
            guard !running.isEmpty else { return [.finish(exitCode: exitCode)] }
            return [.terminate(running), .scheduleKill(after: policy.stopGrace)]
        case .stopGraceExpired:
            guard stopExitCode != nil, !alive.isEmpty else { return [] }
            return [.kill(alive)]
        }
    }

    /// The children that are launched or being launched, in start order.
    var alive: [String] {
        names.filter { name in
            switch phases[name] {
            case .starting, .running: true
            case .waitingToRestart, .stopped, nil: false
            }
        }
    }

    private mutating func exited(_ name: String, at now: Double) -> [Action] {
        if let exitCode = stopExitCode {
            phases[name] = .stopped
            return alive.isEmpty ? [.finish(exitCode: exitCode)] : []
        }
        if case .running(let since) = phases[name], now - since >= policy.healthyAfter {
            nextDelays[name] = policy.initialDelay
        }
        let delay = nextDelays[name] ?? policy.initialDelay
        nextDelays[name] = min(delay * 2, policy.maximumDelay)
        phases[name] = .waitingToRestart
        return [.restart(name, after: delay)]
    }
}
