import Foundation
import HTTPClient
import ServiceRuntime

await ServiceRuntime.main(
    service: "crm-lookup", migrations: CRMMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    let sources = SourceStore(db: environment.db, events: environment.events)
    let breaker = CircuitBreaker()
    CustomerRoutes(
        customers: CustomerStore(db: environment.db, events: environment.events),
        sources: SourceLookup(store: sources, breaker: breaker, http: .shared), metrics: environment.metrics
    ).register(on: environment.router)
    SourceRoutes(store: sources, breaker: breaker).register(on: environment.router)
    return nil
}
