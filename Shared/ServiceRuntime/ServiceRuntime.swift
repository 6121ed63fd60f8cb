import ConciergeAuth
import ConciergeClients
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import ConciergeModels
import Config
import Events
import Foundation
import HTTPServer
import Outbox
import Storage
import Timers
import Webhooks

/// Start-up, shared routes and shutdown common to every service (SPEC §1, §2):
/// configuration → database (migrated) → routes → server + outbox dispatcher → SIGTERM → drain → exit 0.
public enum ServiceRuntime {
    /// Runs the service until SIGTERM/SIGINT; never returns.
    /// - Parameters:
    ///   - service: `contacts`, `conversations`, `routing` or `crm-lookup`.
    ///   - pageSize: SQLite page size of the service's database when this creates it (`Database`).
    ///   - openAPI: the service's OpenAPI document, served at `/openapi.json`.
    ///   - setup: registers the service's routes (and starts nothing). It returns the service's own
    ///     check for deactivated agents' tokens, or `nil` to use the cache refreshed from routing.
    public static func main(
        service: String, migrations: [Migration], pageSize: Int = 4096, openAPI: URL?,
        setup: (ServiceEnvironment) throws -> (any TokenRevocation)?
    ) async -> Never {
        signal(SIGPIPE, SIG_IGN)
        let config = ServiceConfig.fromEnvironmentOrExit(service: service)
        let logger = Logger(service: service, level: config.logLevel)
        let environment: ServiceEnvironment
        let ownRevocation: (any TokenRevocation)?
        do {
            environment = try makeEnvironment(
                config: config, logger: logger, migrations: migrations, pageSize: pageSize)
            ownRevocation = try setup(environment)
        } catch let invalid as ServiceConfig.Invalid {
            logger.flush()
            ServiceConfig.exit(service: service, invalid)
        } catch {
            logger.error("cannot start", ["error": "\(error)", "database": config.databasePath])
            logger.flush()
            exit(1)
        }
        let storage = StorageHealth(db: environment.db, logger: logger, databasePath: config.databasePath)
        registerSharedRoutes(environment, storage: storage, openAPI: openAPI.flatMap { try? Data(contentsOf: $0) })
        let cache =
            ownRevocation == nil
            ? RevocationCache(routingURL: config.routingURL, tokens: .service(service, signer: environment.signer))
            : nil
        var serverConfiguration = ServerConfiguration(host: config.host, port: config.port)
        serverConfiguration.cors = config.corsOrigins.isEmpty ? nil : CORSPolicy(origins: config.corsOrigins)
        let server = HTTPServer(
            serverConfiguration, router: environment.router, logger: logger,
            signer: environment.signer, revocation: ownRevocation ?? cache, metrics: environment.metrics,
            problemFor: { storage.problem(for: $0) }, idempotentRequests: IdempotencyKeys(db: environment.db))
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue(label: "signals"))
            source.setEventHandler {
                logger.info("shutting down", ["signal": String(number)])
                server.shutdown()
                // Long polls answer now rather than hold the drain.
                environment.events.hub.close()
            }
            source.resume()
            return source
        }
        let outbox = environment.outbox
        let webhooks = environment.webhooks
        let timers = environment.timers
        let pruning = Task {
            await pruneEvents(environment.events, deliveries: environment.webhooks.store, logger: logger)
        }
        let failed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await outbox.run()
                return false
            }
            group.addTask {
                await webhooks.run()
                return false
            }
            group.addTask {
                await timers.run()
                return false
            }
            if let cache {
                group.addTask {
                    await cache.run()
                    return false
                }
            }
            group.addTask {
                defer {
                    outbox.stop()
                    webhooks.stop()
                    timers.stop()
                    cache?.stop()
                }
                do {
                    try await server.run()
                    return false
                } catch {
                    logger.error("server failed", ["error": "\(error)"])
                    return true
                }
            }
            return await group.reduce(false) { $0 || $1 }
        }
        for signal in signals { signal.cancel() }
        pruning.cancel()
        environment.db.checkpoint(truncate: true)
        logger.info("stopped")
        logger.flush()
        exit(failed ? 1 : 0)
    }

    static func makeEnvironment(
        config: ServiceConfig, logger: Logger, migrations: [Migration], pageSize: Int
    ) throws -> ServiceEnvironment {
        let db: Database
        do {
            db = try Database(
                path: config.databasePath, migrations: migrations, rewindFrames: config.walRewindFrames,
                pageSize: pageSize)
        } catch let error as SQLiteError where error.code == SQLiteError.readOnly {
            throw ServiceConfig.Invalid(
                variable: "DATABASE_PATH",
                reason: "\(config.databasePath) is read-only to this process (user \(getuid())): "
                    + "make it writable by the user the service runs as")
        } catch {
            // One line: SQLite's own words, without the statement that met them.
            let why = (error as? SQLiteError).map { "\($0.message) (SQLite error \($0.code))" } ?? "\(error)"
            throw ServiceConfig.Invalid(variable: "DATABASE_PATH", reason: "cannot open \(config.databasePath): \(why)")
        }
        let signer = JWTSigner(secret: config.jwtSecret)
        let tokens = TokenSource.service(config.service, signer: signer)
        let token: @Sendable () -> String = { tokens.token }
        // Shares write transactions among concurrent requests (group commit); any error undoes only
        // its own change, as services keep no state in memory that a rollback would leave behind.
        let writer = GroupWriter(db: db) { _ in true }
        writer.start()
        let outbox = Outbox(
            db: db, writer: writer,
            targets: [
                OutboxTarget.contacts: .init(baseURL: config.contactsURL, token: token),
                OutboxTarget.conversations: .init(baseURL: config.conversationsURL, token: token),
                OutboxTarget.routing: .init(baseURL: config.routingURL, token: token),
                OutboxTarget.crmLookup: .init(baseURL: config.crmLookupURL, token: token),
            ],
            logger: logger)
        let metrics = Metrics()
        metrics.gauge("concierge_outbox_depth", help: "Outbox entries waiting, per target.") {
            outbox.depth().map { (labels: Metrics.render([("target", $0.target)]), value: Double($0.count)) }
        }
        metrics.gauge(
            "concierge_outbox_oldest_age_seconds", help: "Age of the oldest waiting outbox entry, per target."
        ) {
            outbox.depth().map { (labels: Metrics.render([("target", $0.target)]), value: $0.oldestSeconds) }
        }
        metrics.counter("concierge_sqlite_wal_rewinds_total", help: "Times the database's write-ahead log was rewound.")
        {
            [(labels: "", value: Double(db.walRewinds))]
        }
        let policy = OutboundPolicy(allowsPrivateTargets: config.allowPrivateTargets)
        var outbound = HTTPClient.Configuration()
        outbound.outboundPolicy = policy
        let outboundHTTP = HTTPClient(configuration: outbound)
        let events = try EventLog(
            db: db, service: config.service, retention: config.eventRetentionHours * 3600)
        metrics.gauge("concierge_event_streams", help: "Open event streams (Server-Sent Events).") {
            [(labels: "", value: Double(events.hub.subscriberCount))]
        }
        metrics.gauge("concierge_event_long_polls", help: "Event feed requests waiting for an event (wait).") {
            [(labels: "", value: Double(events.hub.waitingCount))]
        }
        let webhooks = WebhookDispatcher(
            store: WebhookStore(db: db), events: events, http: outboundHTTP,
            policy: RetryPolicy(delays: config.webhookRetryDelays, window: config.webhookRetryHours * 3600),
            logger: logger)
        let time = SystemTime()
        if config.testClock { logger.warning("test clock enabled: POST /v1/admin/clock moves this service's time") }
        return ServiceEnvironment(
            config: config, logger: logger, db: db, writer: writer, router: Router(), metrics: metrics, signer: signer,
            outbox: outbox, events: events, webhooks: webhooks, time: time,
            timers: TimerScheduler(db: db, time: time, logger: logger, metrics: metrics), outboundPolicy: policy,
            outboundHTTP: outboundHTTP,
            contacts: ContactsClient(baseURL: config.contactsURL, tokens: tokens),
            conversations: ConversationsClient(baseURL: config.conversationsURL, tokens: tokens),
            routing: RoutingClient(baseURL: config.routingURL, tokens: tokens),
            crmLookup: CRMLookupClient(baseURL: config.crmLookupURL, tokens: tokens))
    }

    static func registerSharedRoutes(_ environment: ServiceEnvironment, storage: StorageHealth, openAPI: Data?) {
        let router = environment.router
        let db = environment.db
        let metrics = environment.metrics
        let ok = Array(#"{"status":"ok"}"#.utf8)
        router.get("/healthz", access: .open) { _, _ in .json(bytes: ok) }
        router.get("/readyz", access: .open) { _, _ in
            switch storage.readiness {
            case .ready: .json(bytes: ok)
            case .notReady(let reason?):
                .json(bytes: Array(#"{"status":"unavailable","reason":"\#(reason)"}"#.utf8), status: 503)
            case .notReady(nil): .json(bytes: Array(#"{"status":"unavailable"}"#.utf8), status: 503)
            }
        }
        router.get("/metrics", access: .open) { _, _ in
            .text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/v1/admin/backup", access: .administrators) { _, _ in
            try await backupResponse(
                db: db, service: environment.config.service, databasePath: environment.config.databasePath)
        }
        let document = OpenAPIDocument(
            openAPI.map { Array($0) }
                ?? Array(#"{"openapi":"3.1.0","info":{"title":"missing","version":"0"},"paths":{}}"#.utf8))
        let (host, port) = (environment.config.host, environment.config.port)
        router.get("/openapi.json", access: .open) { request, _ in
            .json(bytes: document.served(requestHost: request.header("host"), host: host, port: port))
        }
        if environment.config.testClock { TestClockRoutes().register(on: router) }
        EventRoutes(log: environment.events).register(on: router)
        WebhookRoutes(
            store: environment.webhooks.store, events: environment.events, dispatcher: environment.webhooks,
            checkTarget: { [policy = environment.outboundPolicy] in policy.refusal(forURL: $0) }
        ).register(on: router)
    }

    /// Deletes events past their retention, and webhook delivery log entries as old, every minute
    /// (more often when retention is short), until cancelled.
    static func pruneEvents(_ events: EventLog, deliveries: WebhookStore, logger: Logger) async {
        let interval = min(60, max(1, events.retention / 10))
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            guard !Task.isCancelled else { return }
            do {
                let pruned = try events.prune()
                if pruned > 0 { logger.info("events pruned", ["count": String(pruned)]) }
                let cutoff = (Date().timeIntervalSince1970 - events.retention) * 1000
                try deliveries.pruneDeliveries(olderThan: Int64(cutoff))
            } catch {
                logger.warning("event pruning failed", ["error": "\(error)"])
            }
        }
    }
}
