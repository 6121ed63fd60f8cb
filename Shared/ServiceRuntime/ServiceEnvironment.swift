import ConciergeAuth
import ConciergeClients
import ConciergeCore
import ConciergeHTTPClient
import ConciergeLogging
import Config
import Events
import HTTPServer
import Outbox
import Storage
import Timers
import Webhooks

/// Everything a service's routes and stores are built from, made once at start-up.
public struct ServiceEnvironment: Sendable {
    public let config: ServiceConfig
    public let logger: Logger
    public let db: Database
    /// Group commit for request paths that write often (see `GroupWriter`).
    public let writer: GroupWriter
    public let router: Router
    public let metrics: Metrics
    public let signer: JWTSigner
    public let outbox: Outbox
    /// This service's events: record them in the transaction of the change they report.
    public let events: EventLog
    /// Delivers `events` to the service's webhooks (`/v1/webhooks`).
    public let webhooks: WebhookDispatcher
    /// The service's wall clock: what stamps and timers read (`SystemTime`, which a service started with
    /// `CONCIERGE_TEST_CLOCK=true` lets a test move forward).
    public let time: any AlarmTimeSource
    /// The service's durable timers: register a handler per kind in `setup`
    /// (`timers.handle("sla.breach") { connection, timer in … }`) and set timers with
    /// `timers.timers.schedule(connection, …)` in a write. The runtime runs it once `setup` returned.
    public let timers: TimerScheduler
    /// Which addresses URLs an administrator configures may lead to (`CONCIERGE_ALLOW_PRIVATE_TARGETS`):
    /// checked on such a URL when it is saved.
    public let outboundPolicy: OutboundPolicy
    /// The HTTP client for URLs an administrator configures (CRM sources): it refuses, after
    /// resolution, every address `outboundPolicy` refuses. Calls on the other services do not go
    /// through it — they are the operator's own addresses.
    public let outboundHTTP: HTTPClient
    /// Clients of the other services, authenticating with short-lived `service` tokens.
    public let contacts: ContactsClient
    public let conversations: ConversationsClient
    public let routing: RoutingClient
    public let crmLookup: CRMLookupClient
}

/// Names of outbox targets, one per service.
public enum OutboxTarget {
    public static let contacts = "contacts"
    public static let conversations = "conversations"
    public static let routing = "routing"
    public static let crmLookup = "crm-lookup"
}
