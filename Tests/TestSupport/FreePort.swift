import Glibc
import Synchronization

/// Ports this test process has handed out already, so two clusters never get the same one.
private let handedOut = Mutex<Set<Int>>([])

/// A TCP port that was free a moment ago on 127.0.0.1 (bound to port 0, read back, closed) and that
/// this process has not handed out before. Services bind without SO_REUSEPORT, so a port taken in
/// the meantime by another process makes the service fail loudly instead of sharing it.
public func freePort() -> Int {
    while true {
        let port = ephemeralPort()
        if handedOut.withLock({ $0.insert(port).inserted }) { return port }
    }
}

private func ephemeralPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            _ = bind(fd, pointer, length)
            return getsockname(fd, pointer, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
