import Foundation
import ServiceRuntime

// Serves the shared routes only until its own issue builds the service.
await ServiceRuntime.main(
    service: "crm-lookup", migrations: Migrations.all,
    openAPI: Bundle.module.url(forResource: "openapi", withExtension: "json")
) { _ in nil }
