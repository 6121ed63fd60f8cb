import ConciergeHTTPClient
import Foundation
import TestSupport
import Testing

/// The outbound policy where it cannot be talked around: in the client's connect path, on the
/// addresses a host resolves to. `2130706433` is no address literal to `inet_pton`, so the client asks
/// the resolver, which reads it as the number of 127.0.0.1 — a host name resolving to a refused
/// address, without a DNS server of our own. (`2852039166` is 169.254.169.254 the same way.)
@Suite struct OutboundPolicyClientTests {
    private static let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    private static func client(allowingPrivate: Bool) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.outboundPolicy = OutboundPolicy(allowsPrivateTargets: allowingPrivate)
        return HTTPClient(configuration: configuration)
    }

    @Test(arguments: ["127.0.0.1", "2130706433", "localhost"])
    func aLoopbackTargetIsRefusedBeforeAnyConnectionUnlessAllowed(_ host: String) async throws {
        let listener = try RawListener { connection, _, _ in
            if connection.readRequest(timeout: 2) != nil { try? connection.writeAll(Array(Self.answer.utf8)) }
        }
        defer { listener.stop() }
        let url = "http://\(host):\(listener.port)/customers"

        let refused = await #expect(throws: HTTPClientError.self) {
            try await Self.client(allowingPrivate: false).send(ClientRequest(method: "GET", url: url), timeout: 2)
        }
        guard case .refusedTarget(let why)? = refused else {
            Issue.record("expected a refused target, got \(String(describing: refused))")
            return
        }
        #expect(why.contains("127.0.0.1 is a loopback address"), "\(why)")
        #expect(why.contains("CONCIERGE_ALLOW_PRIVATE_TARGETS"), "\(why)")
        #expect(listener.acceptedCount == 0, "no connection was made")

        let allowed = try await Self.client(allowingPrivate: true).send(ClientRequest(method: "GET", url: url))
        #expect(allowed.status == 200)
        #expect(listener.acceptedCount == 1)
    }

    /// The metadata address is refused even where private targets are allowed; the refusal comes at
    /// once, with no connection attempt to wait out.
    @Test(arguments: ["169.254.169.254", "2852039166", "169.254.43518"])
    func aLinkLocalTargetIsAlwaysRefused(_ host: String) async throws {
        for allowingPrivate in [false, true] {
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) {
                try await Self.client(allowingPrivate: allowingPrivate).send(
                    ClientRequest(method: "GET", url: "http://\(host)/latest/meta-data/"), timeout: 5)
            }
            guard case .refusedTarget(let why)? = error else {
                Issue.record("expected a refused target, got \(String(describing: error))")
                continue
            }
            #expect(why.contains("169.254.169.254 is a link-local address"), "\(why)")
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }

    /// Calls between the suite's own services carry no policy: a client without one reaches loopback.
    @Test func aClientWithoutAPolicyConnectsAnywhere() async throws {
        let listener = try RawListener { connection, _, _ in
            if connection.readRequest(timeout: 2) != nil { try? connection.writeAll(Array(Self.answer.utf8)) }
        }
        defer { listener.stop() }
        let response = try await HTTPClient().send(
            ClientRequest(method: "GET", url: "http://2130706433:\(listener.port)/"))
        #expect(response.status == 200)
    }
}
