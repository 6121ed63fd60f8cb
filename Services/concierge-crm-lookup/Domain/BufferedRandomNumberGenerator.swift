import CSystem

/// The kernel's random bits (getrandom(2), like `SystemRandomNumberGenerator`), 32 words per system
/// call instead of one: for a thread that makes ids in a loop, as an import's reading thread does, where
/// getrandom stood out (`Benchmarks/crm.sh`; BENCHMARKS.md, "CRM-lookup"). One per thread: not `Sendable`.
struct BufferedRandomNumberGenerator: RandomNumberGenerator {
    private var words = [UInt64](repeating: 0, count: 32)
    private var index = 32

    init() {}

    mutating func next() -> UInt64 {
        if index == words.count { refill() }
        defer { index += 1 }
        return words[index]
    }

    private mutating func refill() {
        // getrandom fills up to 256 bytes whole once the kernel's pool is ready; anything short is
        // made up word by word.
        let filled = words.withUnsafeMutableBytes { getrandom($0.baseAddress, $0.count, 0) }
        if filled != words.count * MemoryLayout<UInt64>.size {
            var system = SystemRandomNumberGenerator()
            for position in words.indices { words[position] = system.next() }
        }
        index = 0
    }
}

@available(*, unavailable)
extension BufferedRandomNumberGenerator: Sendable {}
