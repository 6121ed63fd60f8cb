import ConciergeLogging
import Foundation
import TestSupport
import Testing

@testable import Config

/// `ServiceConfig.load(service:from:)`: SPEC §1 defaults, and one error naming each bad variable.
@Suite struct ConfigTests {
    static let secret = String(repeating: "s", count: 32)

    @Test(arguments: [("contacts", 8081), ("conversations", 8082), ("routing", 8083), ("crm-lookup", 8084)])
    func defaultsFollowTheSpec(service: String, port: Int) throws {
        try withTemporaryFolder { folder in
            let path = folder + "/db/\(service).sqlite"
            let config = try ServiceConfig.load(
                service: service, from: ["CONCIERGE_JWT_SECRET": Self.secret, "DATABASE_PATH": path])
            #expect(config.service == service)
            #expect(config.host == "127.0.0.1")
            #expect(config.port == port)
            #expect(config.databasePath == path)
            #expect(config.jwtSecret == Self.secret)
            #expect(config.contactsURL == "http://127.0.0.1:8081")
            #expect(config.conversationsURL == "http://127.0.0.1:8082")
            #expect(config.routingURL == "http://127.0.0.1:8083")
            #expect(config.crmLookupURL == "http://127.0.0.1:8084")
            #expect(config.logLevel == .info)
            #expect(config.walRewindFrames == 16_384)
            #expect(config.allowPrivateTargets == false)
            // The database folder is created on the way.
            var isFolder: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: folder + "/db", isDirectory: &isFolder) && isFolder.boolValue)
        }
    }

    @Test func defaultDatabasePathIsUnderDataNamedAfterTheService() throws {
        // Creates ./data in the working directory when missing, as a service would; it is git-ignored.
        let config = try ServiceConfig.load(service: "routing", from: ["CONCIERGE_JWT_SECRET": Self.secret])
        #expect(config.databasePath == "./data/routing.sqlite")
    }

    @Test func explicitValuesAreUsed() throws {
        try withTemporaryFolder { folder in
            let config = try ServiceConfig.load(
                service: "contacts",
                from: [
                    "HOST": "0.0.0.0", "PORT": "9001", "DATABASE_PATH": folder + "/c.sqlite",
                    "CONCIERGE_JWT_SECRET": Self.secret + "more", "LOG_LEVEL": "WARNING",
                    "CONTACTS_URL": "http://contacts:8081/", "CONVERSATIONS_URL": "http://conversations:8082",
                    "ROUTING_URL": "http://10.0.0.3:9000", "CRM_LOOKUP_URL": "http://crm.internal",
                    "CONCIERGE_WAL_REWIND_FRAMES": "4096", "CONCIERGE_ALLOW_PRIVATE_TARGETS": "true",
                ])
            #expect(config.host == "0.0.0.0")
            #expect(config.port == 9001)
            #expect(config.databasePath == folder + "/c.sqlite")
            #expect(config.jwtSecret == Self.secret + "more")
            #expect(config.logLevel == .warning)
            #expect(config.contactsURL == "http://contacts:8081")  // trailing slash dropped
            #expect(config.conversationsURL == "http://conversations:8082")
            #expect(config.routingURL == "http://10.0.0.3:9000")
            #expect(config.crmLookupURL == "http://crm.internal")
            #expect(config.walRewindFrames == 4096)
            #expect(config.allowPrivateTargets)
        }
    }

    @Test func privateTargetsAreAllowedOnlyWhenSaidSo() throws {
        try withTemporaryFolder { folder in
            for (value, allowed) in [("true", true), ("false", false)] {
                let config = try ServiceConfig.load(
                    service: "crm-lookup", from: valid(folder, ["CONCIERGE_ALLOW_PRIVATE_TARGETS": value]))
                #expect(config.allowPrivateTargets == allowed)
            }
        }
    }

    @Test func theTestClockIsOffUnlessSaidSoAndRefusesOtherWords() throws {
        try withTemporaryFolder { folder in
            #expect(try ServiceConfig.load(service: "routing", from: valid(folder)).testClock == false)
            let on = try ServiceConfig.load(service: "routing", from: valid(folder, ["CONCIERGE_TEST_CLOCK": "true"]))
            #expect(on.testClock)
            #expect(throws: ServiceConfig.Invalid.self) {
                try ServiceConfig.load(service: "routing", from: valid(folder, ["CONCIERGE_TEST_CLOCK": "yes"]))
            }
        }
    }

    @Test func corsIsOffUnlessOriginsAreGiven() throws {
        try withTemporaryFolder { folder in
            let unset = try ServiceConfig.load(service: "contacts", from: valid(folder))
            let empty = try ServiceConfig.load(service: "contacts", from: valid(folder, ["CONCIERGE_CORS_ORIGINS": ""]))
            #expect(unset.corsOrigins == [])
            #expect(empty.corsOrigins == [])
        }
    }

    @Test func corsOriginsAreReadAsABrowserSendsThem() throws {
        try withTemporaryFolder { folder in
            func origins(_ value: String) throws -> [String] {
                try ServiceConfig.load(service: "contacts", from: valid(folder, ["CONCIERGE_CORS_ORIGINS": value]))
                    .corsOrigins
            }
            let any = try origins("*")
            let listed = try origins(" https://Desk.Example.com , http://localhost:5173,https://desk.example.com:443 ")
            let defaultPort = try origins("http://10.0.0.7:80")
            #expect(any == ["*"])
            #expect(listed == ["https://desk.example.com", "http://localhost:5173"])
            #expect(defaultPort == ["http://10.0.0.7"])
        }
    }

    @Test(arguments: LogLevel.allCases)
    func everyLogLevelNameIsAccepted(level: LogLevel) throws {
        try withTemporaryFolder { folder in
            let config = try ServiceConfig.load(service: "contacts", from: valid(folder, ["LOG_LEVEL": level.name]))
            #expect(config.logLevel == level)
        }
    }

    @Test func secretLengthIsCountedInBytes() throws {
        try withTemporaryFolder { folder in
            let sixteenAccents = String(repeating: "é", count: 16)  // 32 bytes, 16 characters
            let config = try ServiceConfig.load(
                service: "contacts", from: valid(folder, ["CONCIERGE_JWT_SECRET": sixteenAccents]))
            #expect(config.jwtSecret == sixteenAccents)
        }
    }

    @Test(arguments: [
        BadSetting("PORT", "abc"), BadSetting("PORT", ""), BadSetting("PORT", "-1"), BadSetting("PORT", "65536"),
        BadSetting("PORT", "80a"), BadSetting("PORT", " 8080"), BadSetting("PORT", "8080.5"),
        BadSetting("HOST", ""),
        BadSetting("HOST", "999.1.1.1"),
        BadSetting("HOST", "::1"),
        BadSetting("HOST", "example.com"),
        BadSetting("CONCIERGE_JWT_SECRET", String(repeating: "s", count: 31)),
        BadSetting("CONCIERGE_JWT_SECRET", ""),
        BadSetting("LOG_LEVEL", "verbose"), BadSetting("LOG_LEVEL", ""), BadSetting("LOG_LEVEL", "trace"),
        BadSetting("DATABASE_PATH", "/proc/concierge-unit-tests/contacts.sqlite"),
        BadSetting("CONTACTS_URL", "not a url"), BadSetting("CONTACTS_URL", "ftp://contacts:8081"),
        BadSetting("CONTACTS_URL", "http://"), BadSetting("CONTACTS_URL", "contacts:8081"),
        BadSetting("CONVERSATIONS_URL", "https://conversations"), BadSetting("ROUTING_URL", ""),
        BadSetting("CRM_LOOKUP_URL", "//crm-lookup:8084"),
        BadSetting("CONCIERGE_WAL_REWIND_FRAMES", "15"), BadSetting("CONCIERGE_WAL_REWIND_FRAMES", "16777217"),
        BadSetting("CONCIERGE_WAL_REWIND_FRAMES", "lots"), BadSetting("CONCIERGE_WAL_REWIND_FRAMES", ""),
        BadSetting("CONCIERGE_CORS_ORIGINS", "desk.example.com"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://desk.example.com/"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://desk.example.com/app"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "ftp://desk.example.com"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://desk.example.com:99999"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://desk.example.com:+80"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "https://a.example.com,,https://b.example.com"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "*,https://desk.example.com"),
        BadSetting("CONCIERGE_CORS_ORIGINS", "null"),
        BadSetting("CONCIERGE_ALLOW_PRIVATE_TARGETS", "yes"), BadSetting("CONCIERGE_ALLOW_PRIVATE_TARGETS", "TRUE"),
        BadSetting("CONCIERGE_ALLOW_PRIVATE_TARGETS", "1"), BadSetting("CONCIERGE_ALLOW_PRIVATE_TARGETS", ""),
    ])
    func badValueIsRefusedNamingItsVariable(_ setting: BadSetting) throws {
        try withTemporaryFolder { folder in
            let error = loadError(valid(folder, [setting.variable: setting.value]))
            #expect(error?.variable == setting.variable)
            #expect(error?.description.hasPrefix(setting.variable + ": ") == true)
        }
    }

    @Test func missingSecretIsRefusedWithAHint() throws {
        try withTemporaryFolder { folder in
            var env = valid(folder)
            env["CONCIERGE_JWT_SECRET"] = nil
            let error = try #require(loadError(env))
            #expect(error.variable == "CONCIERGE_JWT_SECRET")
            #expect(error.reason.contains("required"))
        }
    }

    @Test func shortSecretReportsItsLengthButNotItsValue() throws {
        try withTemporaryFolder { folder in
            let secret = "short-secret-value"
            let error = try #require(loadError(valid(folder, ["CONCIERGE_JWT_SECRET": secret])))
            #expect(error.variable == "CONCIERGE_JWT_SECRET")
            #expect(error.reason.contains("\(secret.utf8.count)"))
            #expect(!error.description.contains(secret))
        }
    }

    /// The secret may come from a file (a compose secret), its trailing newline not part of it.
    @Test func secretFileIsReadWithoutItsSurroundingWhitespace() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/jwt-secret"
            try Data((Self.secret + "-from-a-file\n").utf8).write(to: URL(fileURLWithPath: file))
            var env = valid(folder, ["CONCIERGE_JWT_SECRET_FILE": file])
            env["CONCIERGE_JWT_SECRET"] = nil
            #expect(try ServiceConfig.load(service: "contacts", from: env).jwtSecret == Self.secret + "-from-a-file")
            // An empty variable counts as unset, as for CONCIERGE_JWT_SECRET.
            env["CONCIERGE_JWT_SECRET"] = ""
            #expect(try ServiceConfig.load(service: "contacts", from: env).jwtSecret == Self.secret + "-from-a-file")
        }
    }

    @Test func secretAndSecretFileTogetherAreRefused() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/jwt-secret"
            try Data(Self.secret.utf8).write(to: URL(fileURLWithPath: file))
            let error = try #require(loadError(valid(folder, ["CONCIERGE_JWT_SECRET_FILE": file])))
            #expect(error.variable == "CONCIERGE_JWT_SECRET_FILE")
            #expect(error.reason.contains("not both"))
        }
    }

    @Test func aSecretFileThatCannotBeReadOrIsShortIsRefused() throws {
        try withTemporaryFolder { folder in
            var env = valid(folder, ["CONCIERGE_JWT_SECRET_FILE": folder + "/missing"])
            env["CONCIERGE_JWT_SECRET"] = nil
            let missing = try #require(loadError(env))
            #expect(missing.variable == "CONCIERGE_JWT_SECRET_FILE")
            #expect(missing.reason == "cannot read \(folder)/missing: No such file or directory")

            env["CONCIERGE_JWT_SECRET_FILE"] = folder
            #expect(loadError(env)?.variable == "CONCIERGE_JWT_SECRET_FILE", "a folder is no secret file")

            let short = folder + "/short"
            try Data("not-32-bytes\n".utf8).write(to: URL(fileURLWithPath: short))
            env["CONCIERGE_JWT_SECRET_FILE"] = short
            let error = try #require(loadError(env))
            #expect(error.variable == "CONCIERGE_JWT_SECRET_FILE")
            #expect(error.reason.contains("got 12"))
            #expect(!error.description.contains("not-32-bytes"))
        }
    }

    @Test func databaseFolderThatCannotBeCreatedIsRefused() throws {
        try withTemporaryFolder { folder in
            // A regular file where a folder should be: no process, root included, can create under it.
            let file = folder + "/a-file"
            #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
            let error = loadError(valid(folder, ["DATABASE_PATH": file + "/db/contacts.sqlite"]))
            #expect(error?.variable == "DATABASE_PATH")
        }
    }
}

struct BadSetting: Sendable, CustomTestStringConvertible {
    let variable: String
    let value: String
    init(_ variable: String, _ value: String) {
        self.variable = variable
        self.value = value
    }
    var testDescription: String { "\(variable)=\"\(value.prefix(40))\"" }
}

/// A complete, valid environment with the database under `folder`, then `overrides`.
private func valid(_ folder: String, _ overrides: [String: String] = [:]) -> [String: String] {
    let base = ["CONCIERGE_JWT_SECRET": ConfigTests.secret, "DATABASE_PATH": folder + "/contacts.sqlite"]
    return base.merging(overrides) { _, override in override }
}

private func loadError(_ env: [String: String]) -> ServiceConfig.Invalid? {
    do throws(ServiceConfig.Invalid) {
        _ = try ServiceConfig.load(service: "contacts", from: env)
        return nil
    } catch {
        return error
    }
}
