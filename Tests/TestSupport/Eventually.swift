import Foundation

/// Re-checks `condition` every `interval` seconds until it holds or `seconds` pass, then once more;
/// returns whether it held. Tests wait on state like this, never on a sleep of a guessed length.
public func eventually(
    within seconds: Double = 5, every interval: Double = 0.02, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + .nanoseconds(Int64(seconds * 1e9))
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
    return try await condition()
}
