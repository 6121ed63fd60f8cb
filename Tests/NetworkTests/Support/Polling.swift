import Foundation
import HTTPServer

/// Waits until `condition` holds or `timeout` seconds pass; returns whether it held.
/// Tests poll like this instead of sleeping for a guessed time.
func eventually(
    timeout: Double = 5, every interval: Double = 0.02, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Monotonic.nanoseconds() + UInt64(timeout * 1e9)
    while true {
        if try await condition() { return true }
        if Monotonic.nanoseconds() >= deadline { return false }
        try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
    }
}

/// Seconds elapsed since `start` (a `Monotonic.nanoseconds()` reading).
func secondsSince(_ start: UInt64) -> Double {
    Double(Monotonic.nanoseconds() - start) / 1e9
}

/// Runs blocking socket work on a thread of its own, never on the cooperative pool (two threads
/// here), which the server's handler tasks need while a test waits for their answers.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
