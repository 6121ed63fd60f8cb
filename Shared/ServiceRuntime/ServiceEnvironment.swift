import Auth
import Clients
import ConciergeCore
import Config
import Events
import HTTPServer
import Logging
import Outbox
import Storage
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
