/// What the command line asks for.
enum Command: Equatable {
    case help
    case token(TokenCommand)
    case up(UpCommand)
    case probe(ProbeCommand)
    case demo(DemoCommand)
    case status(StatusCommand)
    case backup(BackupCommand)
    case restore(RestoreCommand)

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
        case "status": return .status(try StatusCommand(parsing: options))
        case "backup": return .backup(try BackupCommand(parsing: options))
        case "restore": return .restore(try RestoreCommand(parsing: options))
        default: throw .usage("unknown command \"\(name)\"")
        }
    }

    static let usage = """
        Usage: concierge <command> [options]

        Commands:
          up      Run the four services here, restart any that dies, stop all on Ctrl-C.
          token   Print a signed access token (JWT) for the services.
          demo    Set up a small contact centre in the running suite and play a scripted day.
          status  Health, readiness and key metrics of each service, in one table.
          backup  Take consistent online copies of the four databases into a folder.
          restore Put a backup's databases in place while the services are stopped.
          probe   Exit 0 if a URL answers 200 within 2 s (container health checks).
          help    Show this text.

        concierge up [--data DIR] [--bin DIR]
          --data DIR          SQLite files and jwt-secret (default ./data; jwt-secret is created once)
          --bin DIR           where the concierge-* service executables are (default: beside concierge)
          Ports 8081-8084 unless CONTACTS_PORT, CONVERSATIONS_PORT, ROUTING_PORT or CRM_LOOKUP_PORT are set.

        concierge status
          Reads CONTACTS_URL … CRM_LOOKUP_URL (or the *_PORT variables); exit 1 if any service is not ready.

        concierge backup DIR
          Each service copies its live database with SQLite's online backup API; the copies are
          checked (PRAGMA integrity_check) and listed in DIR/backup.json. DIR must not hold a backup.

        concierge restore DIR [--data DIR] [--only NAMES]
          --data DIR          the services' database folder (default ./data); the services must be stopped
          --only NAMES        comma-separated services to restore, e.g. --only contacts,routing
          Replaced files are kept as <name>.sqlite.replaced-<time>.

        concierge probe URL
          e.g. concierge probe http://127.0.0.1:8081/readyz

        concierge token --role ROLE [--sub SUBJECT] [--ttl TTL] [--secret-file PATH]
          --role ROLE         agent, team_manager, administrator or service
          --sub SUBJECT       user id or service name (default: the role)
          --ttl TTL           90s, 15m, 1h, 2d or seconds (default 1h)
          --secret-file PATH  sign with this file's secret (default: CONCIERGE_JWT_SECRET, else ./data/jwt-secret)
        """
}
