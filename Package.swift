// swift-tools-version:6.0
import PackageDescription

// No Swift package dependencies, by the product owner's rule: the toolchain's own
// modules plus two system C libraries, SQLite and OpenSSL (libcrypto; libssl for https).
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
]

func shared(_ name: String, _ deps: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: deps, path: "Shared/\(name)", swiftSettings: settings)
}

func service(_ name: String, folder: String, _ deps: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["ServiceRuntime", "Clients", "ConciergeCore", "Events", "Webhooks"] + deps,
        path: "Services/\(folder)",
        resources: [.copy("openapi.json")],
        swiftSettings: settings
    )
}

func serviceTests(_ service: String) -> Target {
    .testTarget(
        name: "\(service)Tests",
        dependencies: [
            .target(name: service), "Storage", "Models", "Outbox", "Events", "Clients", "HTTPClient", "HTTPServer",
            "Logging",
            "TestSupport",
        ],
        path: "Tests/\(service)Tests",
        swiftSettings: settings
    )
}

let package = Package(
    name: "Concierge",
    products: [
        .library(
            name: "ConciergeClients",
            targets: ["Clients", "HTTPClient", "Models", "ConciergeJSON", "Auth", "ConciergeCore"]),
        .executable(name: "concierge-contacts", targets: ["ContactsService"]),
        .executable(name: "concierge-conversations", targets: ["ConversationsService"]),
        .executable(name: "concierge-routing", targets: ["RoutingService"]),
        .executable(name: "concierge-crm-lookup", targets: ["CRMLookupService"]),
        .executable(name: "concierge", targets: ["ConciergeCLI"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite"),
        .systemLibrary(name: "CCrypto", path: "Shared/CCrypto"),
        .systemLibrary(name: "CTLS", path: "Shared/CTLS"),
        .systemLibrary(name: "CSystem", path: "Shared/CSystem"),
        // Clocks, metrics and how a task waits on an event loop: what both HTTP modules and the services share.
        shared("ConciergeCore", []),
        // Our JSON reader and writer, and `JSONValue`: no wire types.
        shared("ConciergeJSON", []),
        // Wire types: what the services send each other and their clients.
        shared("Models", ["ConciergeJSON"]),
        shared("Logging", ["Models"]),
        shared("Config", ["Logging"]),

        shared("Storage", ["CSQLite", "CSystem"]),
        shared("Auth", ["CCrypto", "Models"]),
        shared("HTTPServer", ["CSystem", "ConciergeCore", "Logging", "Models", "Auth"]),
        shared("HTTPClient", ["CSystem", "CTLS", "ConciergeCore", "Logging", "Models"]),
        shared("Outbox", ["Storage", "HTTPClient", "Logging"]),
        // Each service's events: recorded with the change they report, read back, streamed live.
        shared("Events", ["ConciergeCore", "ConciergeJSON", "Models", "Storage"]),
        // Each service's webhooks: the resource, and signed, ordered, retried delivery of its events.
        shared("Webhooks", ["ConciergeCore", "Events", "HTTPClient", "Logging", "Models", "Storage", "Auth"]),
        shared("Clients", ["HTTPClient", "Models", "Auth"]),
        shared(
            "ServiceRuntime",
            [
                "Config", "Logging", "Models", "Storage", "Auth", "HTTPServer", "HTTPClient", "Outbox", "Events",
                "Clients",
            ]),
        service("ContactsService", folder: "concierge-contacts"),
        service("ConversationsService", folder: "concierge-conversations"),
        service("RoutingService", folder: "concierge-routing"),
        service("CRMLookupService", folder: "concierge-crm-lookup", ["CSystem"]),
        .executableTarget(
            name: "ConciergeCLI",
            dependencies: ["Clients", "Auth", "Config", "Logging", "Models", "HTTPClient", "Storage", "Events"],
            path: "Services/concierge",
            exclude: ["openapi-none.md"],
            swiftSettings: settings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Clients", "Auth", "HTTPClient", "Models", "CTLS"],
            path: "Tests/TestSupport",
            swiftSettings: settings
        ),
        // In-process tests of the shared modules and the CLI.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "Storage", "HTTPServer", "HTTPClient", "Auth", "Config", "Logging", "Models", "ConciergeCore",
                "ConciergeCLI", "Events", "TestSupport",
            ],
            path: "Tests/UnitTests",
            swiftSettings: settings
        ),
        // One in-process target per service: its rules over a temporary database, no processes.
        serviceTests("ContactsService"),
        serviceTests("ConversationsService"),
        serviceTests("RoutingService"),
        serviceTests("CRMLookupService"),
        .testTarget(
            name: "NetworkTests",
            dependencies: [
                "Storage", "HTTPServer", "HTTPClient", "Auth", "Outbox", "Events", "Logging", "Models", "Clients",
                "ServiceRuntime",
                "TestSupport",
            ],
            path: "Tests/NetworkTests",
            swiftSettings: settings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "Clients", "Models", "HTTPClient", "Auth", "HTTPServer", "Storage",
            ],
            path: "Tests/IntegrationTests",
            swiftSettings: settings
        ),
    ]
)
