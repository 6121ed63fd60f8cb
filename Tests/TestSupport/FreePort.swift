import Glibc
import Synchronization

/// Ports this test process has handed out already, so two clusters never get the same one.
private let handedOut = Mutex<Set<Int>>([])

/// A TCP port on 127.0.0.1 that is free now, that this process has not handed out before, and that
/// lies below the kernel's ephemeral range — so no outgoing connection or `bind(port: 0)` elsewhere
/// in the test run can take it before the service binds it (services bind without SO_REUSEPORT).
public func freePort() -> Int {
    let ephemeralStart = ephemeralRangeStart()
    let low = max(1024, ephemeralStart - 12_000)
    while true {
        let port = Int.random(in: low..<ephemeralStart)
        guard isFree(port), handedOut.withLock({ $0.insert(port).inserted }) else { continue }
        return port
    }
}

/// The first port the kernel uses for ephemeral bindings (`ip_local_port_range`), 32768 by default.
private func ephemeralRangeStart() -> Int {
    guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return 32768 }
    defer { fclose(file) }
    var low: Int32 = 0
    var high: Int32 = 0
    return withUnsafeMutablePointer(to: &low) { lowPointer in
        withUnsafeMutablePointer(to: &high) { highPointer in
            withVaList([lowPointer, highPointer]) { vfscanf(file, "%d %d", $0) } == 2 ? Int(lowPointer.pointee) : 32768
        }
    }
}

private func isFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
