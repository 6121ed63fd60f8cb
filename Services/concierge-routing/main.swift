import ConciergeClients
import Config
import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "routing", migrations: RoutingMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    // Workflow lookups and answers saved to contacts get a 2 s ceiling (SPEC §5): never a stuck conversation.
    let tokens = TokenSource.service("routing", signer: environment.signer)
    let runner = WorkflowRunner(
        crm: CRMLookupClient(baseURL: environment.config.crmLookupURL, tokens: tokens, timeout: 2),
        contacts: ContactsClient(baseURL: environment.config.contactsURL, tokens: tokens, timeout: 2))
    let engine = try RoutingEngine(
        store: RoutingStore(db: environment.db, events: environment.events),
        workflows: try WorkflowStore(db: environment.db, events: environment.events), runner: runner,
        outbox: environment.outbox, metrics: environment.metrics)
    AgentRoutes(engine: engine).register(on: environment.router)
    InboxRoutes(engine: engine).register(on: environment.router)
    RouteRoutes(engine: engine).register(on: environment.router)
    WorkflowRoutes(engine: engine).register(on: environment.router)
    return AgentRevocation(engine: engine)
}
