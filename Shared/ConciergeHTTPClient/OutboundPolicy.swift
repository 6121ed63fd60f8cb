/// Which addresses a service may call on an administrator's say-so — CRM sources today, webhooks
/// next — so that configuring a URL never turns a service into a way into the network it runs in.
///
/// Link-local addresses (`169.254.0.0/16`, `fe80::/10`, where cloud metadata services hand out
/// credentials) are never called. Loopback, private, shared (CGNAT) and unspecified addresses are
/// called only when `allowsPrivateTargets` (`CONCIERGE_ALLOW_PRIVATE_TARGETS`) is true, as a suite
/// run on one machine against local stub CRMs needs. The policy is checked twice: on a URL whose host
/// is an address literal when it is configured, and on every address a host name resolves to just
/// before connecting (`HTTPClient.Configuration.outboundPolicy`), so a name that resolves to a refused
/// address is refused too, and no address is connected to that was not checked.
public struct OutboundPolicy: Sendable, Equatable {
    /// Whether loopback, private, shared (CGNAT) and unspecified addresses may be called.
    public var allowsPrivateTargets: Bool

    /// The variable that sets `allowsPrivateTargets`, named in refusals so an operator knows the switch.
    public static let variable = "CONCIERGE_ALLOW_PRIVATE_TARGETS"

    public init(allowsPrivateTargets: Bool) {
        self.allowsPrivateTargets = allowsPrivateTargets
    }

    /// Why `address` may not be called, or `nil` when it may.
    public func refusal(for address: IPAddress) -> String? {
        let what: String
        switch address.kind {
        case .global: return nil
        case .linkLocal:
            return "\(address) is a link-local address (where cloud metadata services answer), which is never called"
        case .loopback: what = "a loopback address"
        case .privateNetwork: what = "a private-network address"
        case .sharedAddressSpace: what = "a shared (carrier-grade NAT) address"
        case .unspecified: what = "an unspecified address (it reaches this machine)"
        }
        guard !allowsPrivateTargets else { return nil }
        return "\(address) is \(what), called only when \(Self.variable) is true"
    }

    /// Why `url` may not be configured, or `nil` when it may: its host as this module's client reads it
    /// (`refusal(forHost:)`). A URL the client cannot read is left to the caller's own checks.
    public func refusal(forURL url: String) -> String? {
        guard let endpoint = try? Endpoint(url) else { return nil }
        var host = Substring(endpoint.host)
        // `[v6]:port` keeps its port in `host` (the client reads no port after a bracket).
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { host = host[...close] }
        return refusal(forHost: String(host))
    }

    /// Why a URL with this host may not be configured, or `nil` when it may: an address literal in a
    /// refused range, or `localhost` (which the HTTP client reaches as 127.0.0.1). Other host names
    /// are checked when they are resolved, before every connection.
    public func refusal(forHost host: String) -> String? {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered.hasSuffix(".localhost") {
            return allowsPrivateTargets
                ? nil : "\(host) is a loopback address, called only when \(Self.variable) is true"
        }
        return IPAddress(literal: host).flatMap(refusal(for:))
    }
}
