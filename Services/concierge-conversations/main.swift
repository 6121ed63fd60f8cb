import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    // Each inbound message dirties a page of many indexes (thread, assignee, inbox, status, keys,
    // outbox): 1 KiB pages write a quarter of the bytes per page (`Benchmarks/inbound.sh`; BENCHMARKS.md,
    // "Inbound end to end": "1 KiB pages").
    service: "conversations", migrations: ConversationMigrations.all, pageSize: 1024,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    let store = try ConversationStore(db: environment.db, writer: environment.writer, events: environment.events)
    let spamFilter = store.spamFilter
    RoutingAnswers.register(on: environment.outbox, events: environment.events)
    let pipeline = InboundPipeline(
        store: store, contacts: environment.contacts, outbox: environment.outbox, metrics: environment.metrics,
        spamFilter: spamFilter)
    let actions = AgentActions(
        store: store, routing: environment.routing, contacts: environment.contacts, outbox: environment.outbox)
    ConversationRoutes(
        store: store, pipeline: pipeline, actions: actions,
        inboxes: InboxDirectory(routing: environment.routing, store: store)
    ).register(on: environment.router)
    SpamRoutes(store: store, filter: spamFilter, contacts: environment.contacts, outbox: environment.outbox)
        .register(on: environment.router)
    FolderRoutes(folders: FolderStore(db: environment.db)).register(on: environment.router)
    InternalRoutes(store: store).register(on: environment.router)
    ReportRoutes(store: store).register(on: environment.router)
    return nil
}
