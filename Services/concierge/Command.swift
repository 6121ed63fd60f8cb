/// What the command line asks for.
enum Command: Equatable {
    case help
    /// One command's own help (`concierge up --help`, `concierge help up`).
    case commandHelp(String)
    case token(TokenCommand)
    case up(UpCommand)
    case probe(ProbeCommand)
    case demo(DemoCommand)
    case events(EventsCommand)
    case status(StatusCommand)
    case backup(BackupCommand)
    case restore(RestoreCommand)

    /// Reads the words after the program name. None, `help`, `-h` or `--help` ask for the usage;
    /// `help <command>`, or `-h`/`--help` anywhere after a command, ask for that command's help.
    static func parse(_ arguments: [String]) throws(CLIError) -> Command {
        guard let name = arguments.first, !["help", "-h", "--help"].contains(name) else {
            guard arguments.count > 1, arguments.first == "help" else { return .help }
            let topic = arguments[1]
            guard helpTexts[topic] != nil, arguments.count == 2 else {
                throw .usage("help takes one command: \(names.joined(separator: ", "))")
            }
            return .commandHelp(topic)
        }
        guard helpTexts[name] != nil else { throw .usage("unknown command \"\(name)\"") }
        if arguments.contains(where: { $0 == "-h" || $0 == "--help" }) { return .commandHelp(name) }
        let options = arguments.dropFirst()
        do throws(CLIError) {
            switch name {
            case "token": return .token(try TokenCommand(parsing: options))
            case "up": return .up(try UpCommand(parsing: options))
            case "probe": return .probe(try ProbeCommand(parsing: options))
            case "demo": return .demo(try DemoCommand(parsing: options))
            case "events": return .events(try EventsCommand(parsing: options))
            case "status": return .status(try StatusCommand(parsing: options))
            case "backup": return .backup(try BackupCommand(parsing: options))
            default: return .restore(try RestoreCommand(parsing: options))
            }
        } catch {
            // A usage error in a command points at that command's help.
            var error = error
            error.command = name
            throw error
        }
    }

    /// The commands in the order the usage lists them.
    static let names = ["up", "status", "token", "demo", "events", "backup", "restore", "probe"]

    static let usage = """
        Usage: concierge <command> [options]

        Commands:
          up      Run the four services here, restart any that dies, stop all on Ctrl-C.
          token   Print a signed access token (JWT) for the services.
          demo    Set up a small contact centre in the running suite and play a scripted day.
          events  Print the suite's events as JSON lines, merged in time order; --follow keeps streaming.
          status  Health, readiness and key metrics of each service, in one table.
          backup  Take consistent online copies of the four databases into a folder.
          restore Put a backup's databases in place while the services are stopped.
          probe   Exit 0 if a URL answers 200 within 2 s (container health checks).
          help    Show this text; `concierge help <command>` or `concierge <command> --help` shows one command's.

        """ + names.compactMap { helpTexts[$0] }.joined(separator: "\n\n")

    /// Each command's own help: its synopsis and options.
    static let helpTexts: [String: String] = [
        "up": """
        concierge up [--data DIR] [--bin DIR]
          Runs the four services as child processes, restarts one that dies, stops all on Ctrl-C.
          --data DIR          SQLite files and jwt-secret (default ./data; jwt-secret is created once)
          --bin DIR           where the concierge-* service executables are (default: beside concierge)
          Ports 8081-8084 unless CONTACTS_PORT, CONVERSATIONS_PORT, ROUTING_PORT or CRM_LOOKUP_PORT are set.
          The services get CONCIERGE_ALLOW_PRIVATE_TARGETS=true unless it is set: a suite on one machine
          may call CRMs on that machine or its network.
        """,
        "status": """
        concierge status
          Reads CONTACTS_URL … CRM_LOOKUP_URL (or the *_PORT variables); prints one line saying why for
          each service that is down or not ready, and exits 1 if any is.
        """,
        "backup": """
        concierge backup DIR
          Each service copies its live database with SQLite's online backup API; the copies are
          checked (PRAGMA integrity_check) and listed in DIR/backup.json. DIR must not hold a backup.
        """,
        "restore": """
        concierge restore DIR [--data DIR] [--only NAMES]
          --data DIR          the services' database folder (default ./data); the services must be stopped
          --only NAMES        comma-separated services to restore, e.g. --only contacts,routing
          Replaced files are kept as <name>.sqlite.replaced-<time>.
        """,
        "probe": """
        concierge probe URL
          e.g. concierge probe http://127.0.0.1:8081/readyz
          Exits 0 on a 200 within 2 s; else prints why (connection refused, timed out, the HTTP status)
          and exits 1.
        """,
        "demo": """
        concierge demo [--force]
          Sets up inboxes, agents, a dedicated hero, CRM entries and a workflow in the running suite
          (the *_URL or *_PORT variables, and the suite's secret), then plays a scripted day and sums up
          the events it produced.
          --force             replace the routing workflow even if it is not one an earlier demo saved
        """,
        "events": """
        concierge events [--service NAME] [--types LIST] [--after POSITIONS] [--follow]
          Prints the events the running suite keeps (the *_URL or *_PORT variables, and the suite's
          secret) as JSON lines, each exactly as its service sent it, merged across the services in time
          order (occurredAt, then service, then seq), then exits.
          --service NAME      only this service's: contacts, conversations, routing or crm-lookup
          --types LIST        comma-separated types or prefixes, e.g. conversation.*,agent.availability_changed
          --after POSITIONS   start after these seqs, e.g. contacts=12,routing=40 (a service not named starts
                              at its oldest kept event); with --service, a bare seq
          --follow            then keep printing new events as they arrive, from every service's stream, until
                              Ctrl-C; a stream that ends is resumed after its last event. On stopping, the
                              positions to go on from are printed on stderr as an --after value.
        """,
        "token": """
        concierge token --role ROLE [--sub SUBJECT] [--ttl TTL] [--secret-file PATH]
          --role ROLE         agent, team_manager, administrator or service
          --sub SUBJECT       user id or service name (default: the role)
          --ttl TTL           90s, 15m, 1h, 2d or seconds (default 1h)
          --secret-file PATH  sign with this file's secret (default: CONCIERGE_JWT_SECRET or the file
                              CONCIERGE_JWT_SECRET_FILE names, else ./data/jwt-secret)
        """,
    ]
}
