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
        dependencies: ["ServiceRuntime", "ConciergeClients", "ConciergeCore", "Events", "Timers", "Webhooks"] + deps,
        path: "Services/\(folder)",
        resources: [.copy("openapi.json")],
        swiftSettings: settings
    )
}

func serviceTests(_ service: String) -> Target {
    .testTarget(
        name: "\(service)Tests",
        dependencies: [
            .target(name: service), "Storage", "ConciergeModels", "Outbox", "Events", "ConciergeClients",
            "ConciergeHTTPClient", "HTTPServer",
            "ConciergeLogging",
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
            targets: [
                "ConciergeClients", "ConciergeHTTPClient", "ConciergeModels", "ConciergeJSON", "ConciergeAuth",
                "ConciergeCore",
            ]),
        // Business-hours calendars and their time math, for services and for other packages.
        .library(name: "BusinessHours", targets: ["BusinessHours"]),
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
        shared("ConciergeModels", ["ConciergeCore", "ConciergeJSON"]),
        shared("ConciergeLogging", ["ConciergeModels"]),
        shared("Config", ["ConciergeLogging"]),

        shared("Storage", ["CSQLite", "CSystem"]),
        shared("ConciergeAuth", ["CCrypto", "ConciergeModels"]),
        shared("HTTPServer", ["CSystem", "ConciergeCore", "ConciergeLogging", "ConciergeModels", "ConciergeAuth"]),
        shared("ConciergeHTTPClient", ["CSystem", "CTLS", "ConciergeCore", "ConciergeLogging", "ConciergeModels"]),
        shared("Outbox", ["Storage", "ConciergeHTTPClient", "ConciergeLogging"]),
        // Each service's events: recorded with the change they report, read back, streamed live.
        shared("Events", ["ConciergeCore", "ConciergeJSON", "ConciergeModels", "Storage"]),
        // Business-hours calendars: opening hours in a time zone, holidays, and the open time between instants.
        shared("BusinessHours", []),
        // Each service's timers: set with the change that needs them, fired once each when due.
        shared("Timers", ["ConciergeCore", "ConciergeLogging", "Storage"]),
        // Each service's webhooks: the resource, and signed, ordered, retried delivery of its events.
        shared(
            "Webhooks",
            [
                "ConciergeCore", "Events", "ConciergeHTTPClient", "ConciergeLogging", "ConciergeModels", "Storage",
                "ConciergeAuth",
            ]),
        shared("ConciergeClients", ["ConciergeHTTPClient", "ConciergeModels", "ConciergeAuth"]),
        shared(
            "ServiceRuntime",
            [
                "Config", "ConciergeLogging", "ConciergeModels", "Storage", "ConciergeAuth", "HTTPServer",
                "ConciergeHTTPClient", "Outbox", "Events", "Timers", "Webhooks",
                "ConciergeClients",
            ]),
        service("ContactsService", folder: "concierge-contacts"),
        service("ConversationsService", folder: "concierge-conversations", ["BusinessHours"]),
        service("RoutingService", folder: "concierge-routing", ["BusinessHours"]),
        service("CRMLookupService", folder: "concierge-crm-lookup", ["CSystem"]),
        .executableTarget(
            name: "ConciergeCLI",
            dependencies: [
                "ConciergeClients", "ConciergeAuth", "Config", "ConciergeLogging", "ConciergeModels",
                "ConciergeHTTPClient", "Storage", "Events",
            ],
            path: "Services/concierge",
            exclude: ["openapi-none.md"],
            swiftSettings: settings
        ),
        // What an application using the library looks like: built with the tests, run by
        // `ClientLibraryExampleTests`.
        .executableTarget(
            name: "concierge-example",
            dependencies: ["ConciergeClients", "ConciergeModels"],
            path: "Tests/Example",
            swiftSettings: settings
        ),
        .target(
            name: "TestSupport",
            dependencies: ["ConciergeClients", "ConciergeAuth", "ConciergeHTTPClient", "ConciergeModels", "CTLS"],
            path: "Tests/TestSupport",
            swiftSettings: settings
        ),
        // In-process tests of the shared modules and the CLI.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "Storage", "HTTPServer", "ConciergeHTTPClient", "ConciergeAuth", "Config", "ConciergeLogging",
                "ConciergeModels", "ConciergeCore",
                "ConciergeCLI", "Events", "Timers", "TestSupport",
            ],
            path: "Tests/UnitTests",
            swiftSettings: settings
        ),
        // The calendar math in-process: time zones, daylight saving, holidays.
        .testTarget(
            name: "BusinessHoursTests",
            dependencies: ["BusinessHours"],
            path: "Tests/BusinessHoursTests",
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
                "Storage", "HTTPServer", "ConciergeHTTPClient", "ConciergeAuth", "Outbox", "Events", "ConciergeLogging",
                "ConciergeModels", "ConciergeClients",
                "ServiceRuntime",
                "TestSupport",
            ],
            path: "Tests/NetworkTests",
            swiftSettings: settings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "ConciergeClients", "ConciergeModels", "ConciergeHTTPClient", "ConciergeAuth",
                "HTTPServer", "Storage",
            ],
            path: "Tests/IntegrationTests",
            swiftSettings: settings
        ),
    ]
)
