import Glibc

/// An IPv4 or IPv6 address as its bytes in network order (4 or 16 of them), and the kind of network
/// it belongs to — what `OutboundPolicy` decides on.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Where an address leads, for deciding whether a service may call it.
    public enum Kind: Equatable, Sendable {
        /// The public internet.
        case global
        /// `169.254.0.0/16`, `fe80::/10`: the link itself, where cloud metadata services answer.
        case linkLocal
        /// `127.0.0.0/8`, `::1`: this machine.
        case loopback
        /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `fc00::/7` (and the retired `fec0::/10`).
        case privateNetwork
        /// `100.64.0.0/10`: a carrier's shared address space (CGNAT), private in all but name.
        case sharedAddressSpace
        /// `0.0.0.0/8`, `::`: "this host" — a connection to it reaches the machine itself.
        case unspecified
    }

    /// An address from its 4 or 16 bytes; `nil` for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// The address of an IPv4 socket address.
    init(_ address: in_addr) {
        var address = address
        bytes = withUnsafeBytes(of: &address) { Array($0) }
    }

    /// An address written as a URL host may write it: IPv4 in any form the resolver accepts as a
    /// number (`127.0.0.1`, but also `127.1`, `0x7f.0.0.1` or `2130706433`, which `getaddrinfo`
    /// turns into the same address), or IPv6 with or without brackets and zone (`[fe80::1%eth0]`).
    /// `nil` for a host name.
    public init?(literal text: String) {
        var host = Substring(text)
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.contains(":") {
            if let percent = host.firstIndex(of: "%") { host = host[..<percent] }
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host), &address) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else {
            var address = in_addr()
            guard !host.isEmpty, inet_aton(String(host), &address) != 0 else { return nil }
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        }
    }

    /// The IPv4 address inside an IPv6 one that stands for it: IPv4-mapped (`::ffff:a.b.c.d`, what
    /// a dual-stack socket reaches IPv4 through) or the NAT64 well-known prefix (`64:ff9b::/96`).
    public var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        let nat64 = bytes[0..<12].elementsEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])
        return mapped || nat64 ? IPAddress(bytes: Array(bytes[12..<16])) : nil
    }

    public var kind: Kind {
        if let inner = embeddedIPv4 { return inner.kind }
        return bytes.count == 4 ? Self.kindOfIPv4(bytes) : Self.kindOfIPv6(bytes)
    }

    private static func kindOfIPv4(_ b: [UInt8]) -> Kind {
        switch (b[0], b[1]) {
        case (0, _): .unspecified
        case (127, _): .loopback
        case (169, 254): .linkLocal
        case (10, _), (172, 16...31), (192, 168): .privateNetwork
        case (100, 64...127): .sharedAddressSpace
        default: .global
        }
    }

    private static func kindOfIPv6(_ b: [UInt8]) -> Kind {
        if b[0..<15].allSatisfy({ $0 == 0 }) {
            switch b[15] {
            case 0: return .unspecified
            case 1: return .loopback
            default: break
            }
        }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .linkLocal }  // fe80::/10
        // fc00::/7 (unique local), fec0::/10 (site-local, retired but still routable inside a site).
        if b[0] & 0xfe == 0xfc || (b[0] == 0xfe && b[1] & 0xc0 == 0xc0) { return .privateNetwork }
        return .global
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard written != nil else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
