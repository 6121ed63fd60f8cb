import ConciergeClients
import ConciergeModels
import Events
import Foundation

/// `concierge events`: the suite's events as JSON lines, each exactly as its service sent it. First
/// every kept event (after `--after`), merged across the services in time order; then, with
/// `--follow`, every new one as it arrives from the services' streams, until SIGINT or SIGTERM.
struct EventsCommand: Equatable {
    /// The services read, in the suite's order; all four unless `--service` names one.
    var services = ChildService.all.map(\.name)
    /// The `types` filter as given, checked as the services check it; `nil`: every type.
    var types: String?
    /// Where each service's events start (`--after`); a service not named starts at its oldest kept.
    var after: [String: Int64] = [:]
    var follow = false

    init(parsing words: ArraySlice<String>) throws(CLIError) {
        // `--follow` is the one flag; every other option takes a value.
        let flags = words.filter { $0 == "--follow" }
        guard flags.count <= 1 else { throw .usage("--follow is given twice") }
        follow = flags.count == 1
        var afterText: String?
        var reader = OptionReader(words.filter { $0 != "--follow" })
        while let option = try reader.next() {
            switch option.name {
            case "--service":
                guard Self.serviceNames.contains(option.value) else {
                    throw .usage("unknown service \"\(option.value)\": use \(Self.serviceList)")
                }
                services = [option.value]
            case "--types":
                do {
                    _ = try EventFilter(types: option.value, audience: nil)
                } catch {
                    throw .usage(
                        "bad --types \"\(option.value)\": list event types or prefixes ending in .*, "
                            + "comma-separated (conversation.*,agent.availability_changed)")
                }
                types = option.value.isEmpty ? nil : option.value
            case "--after": afterText = option.value
            case "--follow": throw .usage("--follow takes no value")
            default: throw .usage("events has no option \(option.name)")
            }
        }
        if let afterText { after = try Self.positions(afterText, services: services) }
    }

    static let serviceNames = ChildService.all.map(\.name)
    private static let serviceList = "contacts, conversations, routing or crm-lookup"

    /// Reads `--after`: `NAME=SEQ,…` for the services named, or a bare `SEQ` when one service is read.
    static func positions(_ text: String, services: [String]) throws(CLIError) -> [String: Int64] {
        if let seq = Int64(text) {
            guard seq >= 0 else { throw .usage("--after \(text): a seq is 0 or more") }
            guard services.count == 1, let service = services.first else {
                throw .usage(
                    "--after \(text) is one seq: name the service (--service), or write contacts=12,routing=40")
            }
            return [service: seq]
        }
        var positions: [String: Int64] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let seq = Int64(parts[1]), seq >= 0 else {
                throw .usage("bad --after \"\(text)\": write SERVICE=SEQ,… such as contacts=12,routing=40")
            }
            let service = String(parts[0])
            guard serviceNames.contains(service) else {
                throw .usage("bad --after \"\(text)\": unknown service \"\(service)\": use \(serviceList)")
            }
            guard services.contains(service) else {
                throw .usage("--after names \(service), which --service leaves out")
            }
            guard positions.updateValue(seq, forKey: service) == nil else {
                throw .usage("--after names \(service) twice")
            }
        }
        return positions
    }

    /// - Returns: 0 when the events were printed (and, following, on SIGINT or SIGTERM), 1 when a
    ///   service did not answer as asked.
    func run(environment: [String: String]) async throws(CLIError) -> Int32 {
        let suite = try Suite.from(environment: environment)
        let tokens = TokenSource { suite.token(.administrator, subject: "concierge-events") }
        let feeds = services.map { name in
            EventFeed(
                name: name, client: ServiceClient(baseURL: suite.url(of: name), tokens: tokens, timeout: 15),
                types: types)
        }
        // A reader that went away (`| head`) ends the command; it must not kill it mid-write.
        signal(SIGPIPE, SIG_IGN)
        let printer = LinePrinter()
        guard follow else {
            do {
                _ = try await catchUp(feeds, printer: printer)
                printer.flush()
                return 0
            } catch {
                printer.flush()
                Console.err("concierge events: \(FeedFailure.message(of: error))")
                return 1
            }
        }
        let work = Task { await followAll(feeds, printer: printer) }
        let signalSources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { work.cancel() }
            source.resume()
            return source
        }
        defer { for source in signalSources { source.cancel() } }
        return await work.value
    }

    /// Prints every kept event after the starting positions, merged in time order.
    /// - Returns: for each feed, the `seq` of its last event printed, or where it started.
    /// - Throws: `FeedFailure`, or `CancellationError` when the task is cancelled.
    private func catchUp(_ feeds: [EventFeed], printer: LinePrinter) async throws -> [Int64?] {
        let starts = feeds.map { after[$0.name] }
        let last = try await EventMerge(starts: starts).run(
            fetch: { feed, position in
                do throws(ServiceError) {
                    return try await feeds[feed].page(after: position)
                } catch {
                    throw FeedFailure(feed: feeds[feed], error: error)
                }
            },
            emit: { printer.print($0.json) })
        return zip(last, starts).map { $0 ?? $1 }
    }

    /// Opens each service's stream, prints the catch-up, then follows every stream until cancelled.
    private func followAll(_ feeds: [EventFeed], printer: LinePrinter) async -> Int32 {
        var streams: [EventStream.Received] = []
        let through: [Int64?]
        do {
            // The streams start now, before the catch-up reads what is kept: nothing falls between.
            for feed in feeds {
                do {
                    streams.append(try await feed.stream(after: nil))
                } catch {
                    throw FeedFailure(feed: feed, error: error)
                }
            }
            through = try await catchUp(feeds, printer: printer)
            guard printer.flush() else { return 0 }
        } catch {
            guard !Task.isCancelled else { return 0 }
            printer.flush()
            Console.err("concierge events: \(FeedFailure.message(of: error))")
            return 1
        }
        let positions = await withTaskGroup(of: (name: String, through: Int64?, outputOpen: Bool).self) { group in
            for (index, feed) in feeds.enumerated() {
                let stream = streams[index]
                let start = through[index]
                group.addTask {
                    var follower = EventFollower(feed: feed, printer: printer, through: start)
                    let outputOpen = await follower.run(from: stream)
                    return (feed.name, follower.through, outputOpen)
                }
            }
            var positions: [String: Int64] = [:]
            for await result in group {
                if !result.outputOpen { group.cancelAll() }
                positions[result.name] = result.through
            }
            return positions
        }
        let resume = feeds.compactMap { feed in positions[feed.name].map { "\(feed.name)=\($0)" } }
        if !resume.isEmpty {
            Console.err("concierge events: stopped; to go on from here: --after \(resume.joined(separator: ","))")
        }
        return 0
    }
}

/// A service that did not give its events: which, and why, in the words `FailureReason` uses.
struct FeedFailure: Error {
    let feed: EventFeed
    let error: ServiceError

    /// The line to print for `error`: which service and why, for a `FeedFailure`.
    static func message(of error: any Error) -> String {
        guard let failure = error as? FeedFailure else { return "\(error)" }
        return "\(failure.feed.name) (\(failure.feed.client.baseURL)): \(FailureReason.of(failure.error))"
    }
}
