import Foundation
import ServiceRuntime

// Serves the shared routes only; agents, inboxes and routing arrive with the routing issue.
await ServiceRuntime.main(
    service: "routing", migrations: RoutingMigrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { _ in }
