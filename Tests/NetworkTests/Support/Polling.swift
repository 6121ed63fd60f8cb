import ConciergeCore
import Foundation
import HTTPServer

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
