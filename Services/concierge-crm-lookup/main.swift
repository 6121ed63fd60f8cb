import ConciergeHTTPClient
import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "crm-lookup", migrations: CRMMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    let sources = SourceStore(db: environment.db, events: environment.events)
    let breaker = CircuitBreaker()
    let lookup = SourceLookup(
        store: sources, breaker: breaker, http: environment.outboundHTTP, logger: environment.logger,
        metrics: environment.metrics)
    CustomerRoutes(
        customers: CustomerStore(db: environment.db, events: environment.events), sources: lookup,
        metrics: environment.metrics
    ).register(on: environment.router)
    SourceRoutes(store: sources, breaker: breaker, policy: environment.outboundPolicy).register(on: environment.router)
    return nil
}
