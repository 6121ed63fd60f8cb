import Foundation

// Wiring only: read the command line, run the command, exit with its status.
let environment = ProcessInfo.processInfo.environment
let status: Int32
do throws(CLIError) {
    switch try Command.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        Console.out(Command.usage)
        status = 0
    case .commandHelp(let name):
        Console.out(Command.helpTexts[name] ?? Command.usage)
        status = 0
    case .token(let command):
        Console.out(try command.token(environment: environment, now: Int(Date().timeIntervalSince1970)))
        status = 0
    case .up(let command):
        status = try await command.run(environment: environment)
    case .probe(let command):
        status = await command.run()
    case .demo(let command):
        status = try await command.run(environment: environment)
    case .events(let command):
        status = try await command.run(environment: environment)
    case .status(let command):
        status = try await command.run(environment: environment)
    case .backup(let command):
        status = try await command.run(environment: environment)
    case .restore(let command):
        status = try command.run()
    }
} catch {
    Console.err("concierge: \(error.message)")
    // One line for a usage error, and where the usage is (it no longer buries the error).
    if error.showsUsage {
        Console.err(
            error.command.map { "Run 'concierge \($0) --help' for its options." }
                ?? "Run 'concierge --help' for the commands and their options.")
    }
    status = error.exitCode
}
exit(status)
