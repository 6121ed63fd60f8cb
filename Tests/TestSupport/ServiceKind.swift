/// The four service executables the harness can start.
public enum ServiceKind: String, CaseIterable, Sendable {
    case contacts
    case conversations
    case routing
    case crmLookup = "crm-lookup"

    public var executable: String { "concierge-\(rawValue)" }

    /// The environment variable other services read to find this one.
    public var urlVariable: String {
        switch self {
        case .contacts: "CONTACTS_URL"
        case .conversations: "CONVERSATIONS_URL"
        case .routing: "ROUTING_URL"
        case .crmLookup: "CRM_LOOKUP_URL"
        }
    }
}
