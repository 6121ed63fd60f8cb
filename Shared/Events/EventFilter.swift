import ConciergeModels
import Foundation

/// Which events a reader wants and may see: the `types` it asked for (exact names, or prefixes
/// written `conversation.*`) and, for an agent, only the events whose audience it is.
public struct EventFilter: Sendable, Equatable {
    /// Exact type names; empty with no prefixes: every type.
    public var names: Set<String>
    /// Prefixes, each ending in its dot (`conversation.`); `*` alone is the empty prefix.
    public var prefixes: [String]
    /// `nil`: every event (services, administrators, team managers); else only this agent's.
    public var audience: String?

    public init(names: Set<String> = [], prefixes: [String] = [], audience: String? = nil) {
        self.names = names
        self.prefixes = prefixes
        self.audience = audience
    }

    /// Reads `types=a,b,conversation.*`; 400 naming the parameter for a malformed entry.
    public init(types: String?, audience: String?) throws {
        self.init(audience: audience)
        guard let types, !types.isEmpty else { return }
        for entry in types.split(separator: ",", omittingEmptySubsequences: false) {
            let name = entry.trimmingCharacters(in: .whitespaces)
            let body = name.hasSuffix("*") ? name.dropLast() : Substring(name)
            guard name.utf8.count <= 100,
                !name.isEmpty,
                body.utf8.allSatisfy({ Self.isNameByte($0) }),
                !(name.hasSuffix("*") && !body.isEmpty && !body.hasSuffix("."))
            else {
                throw Problem.badRequest(
                    "types is a comma-separated list of event types (conversation.assigned) or prefixes ending in .* (conversation.*).",
                    field: "types")
            }
            if name.hasSuffix("*") { prefixes.append(String(body)) } else { names.insert(name) }
        }
    }

    public var matchesEveryType: Bool { names.isEmpty && prefixes.isEmpty }

    public func matches(_ event: Event) -> Bool {
        if let audience, event.audience != audience { return false }
        return matches(type: event.type)
    }

    public func matches(type: String) -> Bool {
        matchesEveryType || names.contains(type) || prefixes.contains { type.hasPrefix($0) }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."),
            UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
