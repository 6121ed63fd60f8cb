/// Answers whether an authenticated subject has been switched off (a deactivated agent).
/// Routing answers from its own table at once; the other services from a cache refreshed from
/// routing, so a deactivated agent is refused everywhere within 60 s (SPEC §2).
public protocol TokenRevocation: Sendable {
    func isRevoked(subject: String) -> Bool
}
