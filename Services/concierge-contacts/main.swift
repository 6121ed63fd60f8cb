import Foundation
import ServiceRuntime

await ServiceRuntime.main(
    service: "contacts", migrations: ContactMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { environment in
    ContactRoutes(
        store: ContactStore(db: environment.db), heroes: HeroValidator(routing: environment.routing),
        environment: environment
    ).register(on: environment.router)
    return nil
}
