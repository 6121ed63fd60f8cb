/// What the command line asks for.
enum Command: Equatable {
    case help
    case token(TokenCommand)
    case up(UpCommand)
    case probe(ProbeCommand)
    case demo(DemoCommand)

    /// Reads the words after the program name; none, `help`, `-h` or `--help` anywhere ask for the usage.
    static func parse(_ arguments: [String]) throws(CLIError) -> Command {
        guard let name = arguments.first, !arguments.contains(where: { $0 == "-h" || $0 == "--help" }) else {
            return .help
        }
        let options = arguments.dropFirst()
        switch name {
        case "help": return .help
        case "token": return .token(try TokenCommand(parsing: options))
        case "up": return .up(try UpCommand(parsing: options))
        case "probe": return .probe(try ProbeCommand(parsing: options))
        case "demo": return .demo(try DemoCommand(parsing: options))
        default: throw .usage("unknown command \"\(name)\"")
        }
    }

    static let usage = """
        Usage: concierge <command> [options]

        Commands:
          up      Run the four services here, restart any that dies, stop all on Ctrl-C.
          token   Print a signed access token (JWT) for the services.
          demo    Set up a small contact centre in the running suite and play a scripted day.
          probe   Exit 0 if a URL answers 200 within 2 s (container health checks).
          help    Show this text.

        concierge up [--data DIR] [--bin DIR]
          --data DIR          SQLite files and jwt-secret (default ./data; jwt-secret is created once)
          --bin DIR           where the concierge-* service executables are (default: beside concierge)
          Ports 8081-8084 unless CONTACTS_PORT, CONVERSATIONS_PORT, ROUTING_PORT or CRM_LOOKUP_PORT are set.

        concierge probe URL
          e.g. concierge probe http://127.0.0.1:8081/readyz

        concierge token --role ROLE [--sub SUBJECT] [--ttl TTL] [--secret-file PATH]
          --role ROLE         agent, team_manager, administrator or service
          --sub SUBJECT       user id or service name (default: the role)
          --ttl TTL           90s, 15m, 1h, 2d or seconds (default 1h)
          --secret-file PATH  sign with this file's secret (default: CONCIERGE_JWT_SECRET, else ./data/jwt-secret)
        """
}
