import Foundation

/// `concierge up`: runs the four services as child processes with one data folder and one secret,
/// restarts any that dies, and stops them all on SIGINT or SIGTERM (SPEC §8).
struct UpCommand: Equatable {
    static let defaultDataFolder = "./data"

    /// Holds the SQLite files and `jwt-secret`; default `./data`.
    var dataFolder = Self.defaultDataFolder
    /// Holds the service executables; default: the folder of the running `concierge`.
    var binFolder: String?

    /// Reads `--data` and `--bin`.
    init(parsing words: ArraySlice<String>) throws(CLIError) {
        var reader = OptionReader(words)
        while let option = try reader.next() {
            guard !option.value.isEmpty else { throw .usage("\(option.name) must not be empty") }
            switch option.name {
            case "--data": dataFolder = option.value
            case "--bin": binFolder = option.value
            default: throw .usage("up has no option \(option.name)")
            }
        }
    }

    /// Runs the suite until a signal stops it.
    /// - Returns: 0 after a stop by signal, 1 when a service did not become ready.
    /// - Throws: `CLIError` for a bad port, data folder, secret or missing executable, before anything starts.
    func run(environment: [String: String]) async throws(CLIError) -> Int32 {
        let services = try ChildService.configured(from: environment)
        let bin = try Self.binFolder(binFolder, services: services)
        let host = environment["HOST"] ?? "127.0.0.1"
        if let taken = services.first(where: { PortCheck.isTaken(host: host, port: $0.port) }) {
            throw .configuration(
                "port \(taken.port) for \(taken.name) is taken by another process (is the suite already running?): "
                    + "stop it, or set \(taken.portVariable)")
        }
        let data = Self.absolute(dataFolder)
        do {
            try FileManager.default.createDirectory(
                atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .configuration("cannot create the data folder \(data): \(error.localizedDescription)")
        }
        let secretFile = data + "/" + Secret.fileName
        let secret: Secret
        var secretFromFile = false
        if let fromEnvironment = try Secret.fromEnvironment(environment) {
            secret = fromEnvironment
        } else {
            let (fromFile, created) = try Secret.readOrCreate(at: secretFile)
            if created { Console.out("created a new token secret in \(secretFile)") }
            secret = fromFile
            secretFromFile = true
        }
        var environments: [String: [String: String]] = [:]
        for service in services {
            environments[service.name] = service.environment(
                inheriting: environment, secret: secret, dataFolder: data, suite: services)
        }

        // A closed terminal or pipe must not kill `up` and orphan the children.
        signal(SIGPIPE, SIG_IGN)
        // Signals become events before the first child exists, so none is left behind.
        let runner = ProcessRunner(services: services, environments: environments, binFolder: bin)
        let signalSources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { runner.stop(exitCode: 0) }
            source.resume()
            return source
        }
        defer { for source in signalSources { source.cancel() } }

        let tokenHint = Self.tokenHint(secretFile: secretFromFile ? secretFile : nil)
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await runner.run() }
            group.addTask {
                await Self.announce(services, runner: runner, tokenHint: tokenHint)
                return nil
            }
            var exitCode: Int32 = 1
            for await result in group {
                guard let result else { continue }
                exitCode = result
                group.cancelAll()
            }
            return exitCode
        }
    }

    /// Prints one line per ready service and how to try the API, or stops everything if one is not ready.
    private static func announce(_ services: [ChildService], runner: ProcessRunner, tokenHint: String) async {
        let check = ReadinessCheck()
        let late = await check.notReady(services)
        // Cancelled: a stop came first, and a failure report would only confuse.
        guard !Task.isCancelled else { return }
        guard late.isEmpty else {
            for service in late {
                Console.err(
                    Console.styled("✗", .red)
                        + " concierge: \(service.name) was not ready within \(check.timeout); stopping")
            }
            runner.stop(exitCode: 1)
            return
        }
        for service in services {
            Console.out(Console.styled("✓", .green) + " \(service.name) ready at \(service.baseURL)")
        }
        let me = CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil } ?? "concierge"
        let contacts = services.first?.baseURL ?? ""
        Console.out(
            """

            Try: curl -H "Authorization: Bearer $(\(me) token --role administrator\(tokenHint))" \
            \(contacts)/v1/contacts
            `concierge status` shows each service's health and metrics; Ctrl-C stops all four.
            """)
    }

    /// The options `concierge token` needs to sign with the suite's secret: none when that comes from the
    /// variable or ./data/jwt-secret, which it finds by itself.
    private static func tokenHint(secretFile: String?) -> String {
        guard let secretFile, secretFile != absolute(TokenCommand.defaultSecretFile) else { return "" }
        return " --secret-file \(secretFile)"
    }

    /// `--bin`, else the folder of the running executable; it must hold every service executable.
    private static func binFolder(_ option: String?, services: [ChildService]) throws(CLIError) -> URL {
        let folder: URL
        if let option {
            folder = URL(fileURLWithPath: absolute(option))
        } else if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folder = URL(fileURLWithPath: own).deletingLastPathComponent()
        } else {
            folder = URL(fileURLWithPath: absolute(CommandLine.arguments.first ?? ".")).deletingLastPathComponent()
        }
        for service in services
        where !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent(service.executable).path) {
            throw .failure(
                "\(service.executable) is not in \(folder.path): build with `swift build`, or pass --bin")
        }
        return folder
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
