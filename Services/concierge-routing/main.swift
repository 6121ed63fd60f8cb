import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "routing", migrations: RoutingMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    let engine = try RoutingEngine(store: RoutingStore(db: environment.db), outbox: environment.outbox, metrics: environment.metrics)
    AgentRoutes(engine: engine).register(on: environment.router)
    InboxRoutes(engine: engine).register(on: environment.router)
    RouteRoutes(engine: engine).register(on: environment.router)
    return AgentRevocation(engine: engine)
}
