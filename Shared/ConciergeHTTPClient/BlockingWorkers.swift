import Foundation

/// Threads for blocking socket exchanges, so they never run on (or starve) the Swift concurrency
/// pool. A job never waits behind another: an idle worker takes it, or a new thread is started.
/// Workers idle for 30 s end, down to a few kept warm, so a burst does not leave threads behind.
///
/// `@unchecked Sendable`: `jobs` and `idle` are only touched while `condition` is locked.
final class BlockingWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var idle = 0
    private var workers = 0
    /// Workers kept even when idle; default 4.
    private let warm: Int

    init(warm: Int = 4) { self.warm = warm }

    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if idle > 0 {
            condition.signal()
            condition.unlock()
            return
        }
        workers += 1
        condition.unlock()
        let thread = Thread { [self] in work() }
        thread.name = "http-client"
        thread.start()
    }

    private func work() {
        condition.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            idle += 1
            let signalled = condition.wait(until: Date().addingTimeInterval(30))
            idle -= 1
            if !signalled && jobs.isEmpty && workers > warm {
                workers -= 1
                condition.unlock()
                return
            }
        }
    }
}
