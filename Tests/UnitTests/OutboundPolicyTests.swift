import ConciergeHTTPClient
import Testing

/// `IPAddress` classification and `OutboundPolicy`: which addresses URLs an administrator configures
/// may lead to.
@Suite struct OutboundPolicyTests {
    @Test(arguments: [
        // IPv4, and the other spellings the resolver reads as IPv4 numbers.
        ("169.254.169.254", IPAddress.Kind.linkLocal), ("169.254.0.1", .linkLocal), ("169.253.255.255", .global),
        ("169.255.0.1", .global), ("2852039166", .linkLocal), ("0xA9FEA9FE", .linkLocal), ("169.254.43518", .linkLocal),
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("127.1", .loopback), ("2130706433", .loopback),
        ("10.1.2.3", .privateNetwork), ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("172.15.255.255", .global), ("172.32.0.1", .global), ("192.168.1.1", .privateNetwork),
        ("192.169.0.1", .global), ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("100.63.255.255", .global), ("100.128.0.1", .global), ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified),
        ("8.8.8.8", .global), ("93.184.216.34", .global),
        // IPv6, with and without brackets and zone.
        ("::1", .loopback), ("[::1]", .loopback), ("::", .unspecified), ("[::]", .unspecified),
        ("fe80::1", .linkLocal), ("[fe80::1%eth0]", .linkLocal), ("febf:ffff::1", .linkLocal),
        ("fec0::1", .privateNetwork),
        ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork), ("2001:4860:4860::8888", .global),
        ("::2", .global),
        // IPv6 that stands for IPv4: mapped (a dual-stack socket's way to IPv4) and NAT64.
        ("::ffff:169.254.1.1", .linkLocal), ("[::ffff:169.254.169.254]", .linkLocal), ("::ffff:a9fe:101", .linkLocal),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.1", .privateNetwork), ("::ffff:8.8.8.8", .global),
        ("64:ff9b::169.254.169.254", .linkLocal), ("64:ff9b::8.8.8.8", .global),
    ])
    func addressesAreClassified(_ literal: String, _ kind: IPAddress.Kind) throws {
        let address = try #require(IPAddress(literal: literal), "\(literal) is an address")
        #expect(address.kind == kind, "\(literal)")
    }

    @Test(arguments: ["crm.example.com", "", "localhost", "[crm.example.com]", "1.2.3.4.example.com", "fe80::zz"])
    func hostNamesAreNoAddressLiterals(_ host: String) {
        #expect(IPAddress(literal: host) == nil)
    }

    @Test func addressesAreWrittenInTheirUsualForm() throws {
        #expect(try #require(IPAddress(literal: "2852039166")).description == "169.254.169.254")
        #expect(try #require(IPAddress(literal: "[FE80::0:1%eth0]")).description == "fe80::1")
        #expect(try #require(IPAddress(literal: "::ffff:a9fe:101")).description == "::ffff:169.254.1.1")
    }

    @Test(arguments: [false, true])
    func linkLocalIsRefusedWhateverTheSwitchSays(_ allowsPrivate: Bool) throws {
        let policy = OutboundPolicy(allowsPrivateTargets: allowsPrivate)
        for literal in ["169.254.169.254", "fe80::1", "::ffff:169.254.1.1"] {
            let address = try #require(IPAddress(literal: literal))
            let why = try #require(policy.refusal(for: address), "\(literal)")
            #expect(why.contains("link-local"), "\(why)")
            #expect(why.contains("never"), "\(why)")
        }
    }

    @Test(arguments: [
        "127.0.0.1", "::1", "10.0.0.1", "172.20.1.1", "192.168.0.10", "fd00::1", "0.0.0.0", "::", "100.64.1.1",
    ])
    func privateAddressesAreRefusedUnlessAllowed(_ literal: String) throws {
        let address = try #require(IPAddress(literal: literal))
        let why = try #require(OutboundPolicy(allowsPrivateTargets: false).refusal(for: address))
        #expect(why.contains("CONCIERGE_ALLOW_PRIVATE_TARGETS is true"), "\(why)")
        #expect(OutboundPolicy(allowsPrivateTargets: true).refusal(for: address) == nil)
    }

    @Test(arguments: [false, true])
    func publicAddressesAreAlwaysAllowed(_ allowsPrivate: Bool) throws {
        let policy = OutboundPolicy(allowsPrivateTargets: allowsPrivate)
        for literal in ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"] {
            let address = try #require(IPAddress(literal: literal))
            #expect(policy.refusal(for: address) == nil, "\(literal)")
        }
    }

    /// A URL is judged by its host as the HTTP client reads it; host names wait for their resolution.
    @Test(arguments: [
        ("http://169.254.169.254/latest/meta-data?email=x", true, true),
        ("https://[fe80::1]:8443/customers?email=x", true, true),
        ("http://[::ffff:169.254.1.1]/c?email=x", true, true),
        ("http://2852039166/c?email=x", true, true),
        ("http://127.0.0.1:9000/c?email=x", true, false),
        ("http://localhost:9000/c?email=x", true, false),
        ("http://LOCALHOST/c?email=x", true, false),
        ("http://[::1]:9000/c?email=x", true, false),
        ("http://10.0.0.5/c?email=x", true, false),
        ("http://crm.internal/c?email=x", false, false),
        ("https://crm.example.com/c?email=x", false, false),
        ("http://8.8.8.8/c?email=x", false, false),
    ])
    func configuredURLsAreJudgedByTheirHost(_ url: String, refusedWithoutSwitch: Bool, refusedWithSwitch: Bool) {
        #expect((OutboundPolicy(allowsPrivateTargets: false).refusal(forURL: url) != nil) == refusedWithoutSwitch)
        #expect((OutboundPolicy(allowsPrivateTargets: true).refusal(forURL: url) != nil) == refusedWithSwitch)
    }
}
