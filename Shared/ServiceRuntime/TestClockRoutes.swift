import ConciergeCore
import ConciergeModels
import Foundation
import HTTPServer

/// `GET/POST /v1/admin/clock` (administrators): reads and moves this process's wall clock forward, so a
/// test of a timer measured in hours runs the production code in seconds. Registered only when the
/// service was started with `CONCIERGE_TEST_CLOCK=true`; otherwise the route does not exist (404).
struct TestClockRoutes: Sendable {
    /// The longest single move: a year.
    static let maxAdvance: Double = 366 * 86_400

    struct Advance: Decodable {
        let advanceSeconds: Double
    }

    func register(on router: Router) {
        router.get("/v1/admin/clock", access: .administrators) { _, _ in Self.answer() }
        router.post("/v1/admin/clock", access: .administrators, idempotencyKey: .notReplayed) { request, _ in
            let input = try request.decode(Advance.self)
            guard input.advanceSeconds.isFinite, input.advanceSeconds >= 0, input.advanceSeconds <= Self.maxAdvance
            else {
                throw Problem.unprocessable(
                    "The clock moves forward only, by at most a year at a time.",
                    errors: [.init(field: "advanceSeconds", message: "Must be from 0 to \(Int(Self.maxAdvance)).")])
            }
            WallClock.advance(by: input.advanceSeconds)
            return Self.answer()
        }
    }

    static func answer() -> Response {
        let body = #"{"now":"\#(Timestamp.format(WallClock.now))","offsetSeconds":\#(WallClock.offset)}"#
        return .json(bytes: Array(body.utf8))
    }
}
