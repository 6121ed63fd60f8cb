import Foundation

/// Carries out the `Supervisor`'s actions on real child processes: the only place `up` touches `Process`.
/// Events (exits, timers, stop requests) arrive on one stream and are handled one at a time by `run()`,
/// so the supervisor and the process table need no lock.
final class ProcessRunner: Sendable {
    private let services: [ChildService]
    private let environments: [String: [String: String]]
    private let binFolder: URL
    private let policy: Supervisor.Policy
    private let events: AsyncStream<Supervisor.Event>
    private let continuation: AsyncStream<Supervisor.Event>.Continuation

    /// - Parameters:
    ///   - environments: each child's whole environment, by service name.
    ///   - binFolder: where the service executables are.
    init(
        services: [ChildService], environments: [String: [String: String]], binFolder: URL,
        policy: Supervisor.Policy = Supervisor.Policy()
    ) {
        self.services = services
        self.environments = environments
        self.binFolder = binFolder
        self.policy = policy
        (events, continuation) = AsyncStream.makeStream(of: Supervisor.Event.self)
    }

    /// Asks every child to stop; callable from any thread (signal handlers, the readiness check).
    func stop(exitCode: Int32) {
        continuation.yield(.stopRequested(exitCode: exitCode))
    }

    /// Starts the children and keeps them running until a stop has ended them all.
    /// - Returns: the exit status the stop asked for.
    func run() async -> Int32 {
        var supervisor = Supervisor(services: services.map(\.name), policy: policy)
        var children: [String: Process] = [:]
        var feedback: [Supervisor.Event] = []
        var actions = supervisor.begin()
        var iterator = events.makeAsyncIterator()
        while true {
            for action in actions {
                if let exitCode = perform(action, children: &children, feedback: &feedback) {
                    continuation.finish()
                    return exitCode
                }
            }
            if feedback.isEmpty {
                // The stream only ends when `run` finishes it, so `nil` cannot arrive here.
                guard let event = await iterator.next() else { return 1 }
                feedback.append(event)
            }
            actions = supervisor.handle(feedback.removeFirst(), at: ProcessInfo.processInfo.systemUptime)
        }
    }

    /// Does one action; launches report back through `feedback` at once, so that their `.started`
    /// is handled before the child's own `.exited`, which may already be waiting in the stream.
    /// - Returns: the exit status when the action is `.finish`.
    private func perform(
        _ action: Supervisor.Action, children: inout [String: Process], feedback: inout [Supervisor.Event]
    ) -> Int32? {
        switch action {
        case .start(let name):
            feedback.append(launch(name, children: &children))
        case .restart(let name, let delay):
            let why = children[name].map(Self.describeExit) ?? "could not be started"
            Console.err(
                Console.styled("↻", .yellow) + " concierge: \(name) \(why); restarting in \(Self.seconds(delay))")
            deliver(.restartDue(name), after: delay)
        case .terminate(let names):
            signal(SIGTERM, to: names, in: children)
        case .scheduleKill(let delay):
            deliver(.stopGraceExpired, after: delay)
        case .kill(let names):
            Console.err(
                Console.styled("✗", .red) + " concierge: \(names.joined(separator: ", ")) did not stop in time; killing"
            )
            signal(SIGKILL, to: names, in: children)
        case .finish(let exitCode):
            return exitCode
        }
        return nil
    }

    private func launch(_ name: String, children: inout [String: Process]) -> Supervisor.Event {
        let process = Process()
        process.executableURL = binFolder.appendingPathComponent("concierge-\(name)")
        process.environment = environments[name]
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [continuation] _ in continuation.yield(.exited(name)) }
        do {
            try process.run()
        } catch {
            Console.err("concierge: cannot start concierge-\(name): \(error)")
            children[name] = nil
            return .exited(name)
        }
        children[name] = process
        return .started(name)
    }

    private func signal(_ number: Int32, to names: [String], in children: [String: Process]) {
        for name in names {
            guard let process = children[name], process.isRunning else { continue }
            kill(process.processIdentifier, number)
        }
    }

    private func deliver(_ event: Supervisor.Event, after seconds: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [continuation] in
            continuation.yield(event)
        }
    }

    private static func describeExit(_ process: Process) -> String {
        switch process.terminationReason {
        case .exit: "exited with status \(process.terminationStatus)"
        case .uncaughtSignal: "was killed by signal \(process.terminationStatus)"
        @unknown default: "stopped"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
