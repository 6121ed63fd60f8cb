import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "contacts", migrations: ContactMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    ContactRoutes(
        store: ContactStore(db: environment.db, events: environment.events),
        heroes: HeroValidator(routing: environment.routing), metrics: environment.metrics
    ).register(on: environment.router)
    return nil
}
