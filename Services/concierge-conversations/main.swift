import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "conversations", migrations: ConversationMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    let store = ConversationStore(db: environment.db, writer: environment.writer)
    let spamFilter = try SpamFilter(db: environment.db)
    RoutingSync.install(on: environment.outbox)
    let pipeline = InboundPipeline(
        store: store, contacts: environment.contacts, outbox: environment.outbox, metrics: environment.metrics,
        spamFilter: spamFilter)
    let actions = AgentActions(store: store, routing: environment.routing, contacts: environment.contacts, outbox: environment.outbox)
    ConversationRoutes(
        store: store, pipeline: pipeline, actions: actions,
        inboxes: InboxDirectory(routing: environment.routing, db: environment.db), spamFilter: spamFilter
    ).register(on: environment.router)
    SpamRoutes(store: store, filter: spamFilter, contacts: environment.contacts, outbox: environment.outbox)
        .register(on: environment.router)
    FolderRoutes(folders: FolderStore(db: environment.db)).register(on: environment.router)
    InternalRoutes(store: store, outbox: environment.outbox).register(on: environment.router)
    ReportRoutes(store: store).register(on: environment.router)
    return nil
}
