import ConciergeCore
import ConciergeHTTPClient
import Foundation
import HTTPServer
import TestSupport
import Testing

/// Our HTTP client over https against a libssl test server, with a throwaway CA made at test time.
@Suite struct HTTPClientTLSTests {
    /// A fresh authority, its certificate written as PEM, and a client trusting it.
    struct Trust {
        let authority: TestCertificate
        let caFile: String
        let client: HTTPClient

        init() throws {
            authority = try TestCertificate.authority("Concierge Test CA")
            caFile = HTTPClientTLSTests.temporaryPEMPath()
            try authority.writePEM(to: caFile)
            var configuration = HTTPClient.Configuration()
            configuration.trustedCAFile = caFile
            client = HTTPClient(configuration: configuration)
        }

        func remove() { try? FileManager.default.removeItem(atPath: caFile) }
    }

    private static let echo: TLSTestServer.Handler = { target in (200, #"{"target":"\#(target)"}"#) }

    static func temporaryPEMPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("concierge-ca-\(UUID().uuidString).pem").path
    }

    /// Each client's request to `server` fails with an error containing its text, and none reaches it.
    private func expectRefused(_ attempts: [(client: HTTPClient, saying: String)], by server: TLSTestServer) async {
        for (client, text) in attempts {
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.get("https://127.0.0.1:\(server.port)/")
            }
            #expect(error?.description.contains(text) == true, "\(String(describing: error))")
        }
        #expect(server.targets.isEmpty)
    }

    @Test func getOverTLSReusesTheConnectionAndChecksNames() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let server = try TLSTestServer(
            certificate: trust.authority.issue(for: ["127.0.0.1", "localhost"]), handler: Self.echo)
        defer { server.stop() }
        for index in 0..<3 {
            let response = try await trust.client.get("https://127.0.0.1:\(server.port)/customers?n=\(index)")
            #expect(response.status == 200)
            #expect(response.text == #"{"target":"/customers?n=\#(index)"}"#)
        }
        #expect(server.acceptedCount == 1, "keep-alive: one TLS connection for three requests")
        #expect(server.handshakeCount == 1)

        // A DNS name is checked against the certificate's DNS names (and goes out as SNI).
        let byName = try await trust.client.get("https://localhost:\(server.port)/named")
        #expect(byName.text == #"{"target":"/named"}"#)
        #expect(server.targets == ["/customers?n=0", "/customers?n=1", "/customers?n=2", "/named"])
    }

    @Test func certificateForAnotherNameIsRefused() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let server = try TLSTestServer(certificate: trust.authority.issue(for: ["crm.example"]), handler: Self.echo)
        defer { server.stop() }
        for host in ["127.0.0.1", "localhost"] {
            let error = await #expect(throws: HTTPClientError.self) {
                try await trust.client.get("https://\(host):\(server.port)/")
            }
            guard case .connectFailed(let why)? = error else {
                Issue.record("expected connectFailed, got \(String(describing: error))")
                continue
            }
            #expect(why.contains("certificate verify failed"), "\(why)")
            #expect(why.contains("mismatch"), "\(why)")
        }
        #expect(server.targets.isEmpty, "no request went out on a connection that failed verification")
    }

    @Test func certificateOfAnUntrustedAuthorityIsRefused() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let stranger = try TestCertificate.authority("Someone Else's CA")
        let server = try TLSTestServer(certificate: stranger.issue(for: ["127.0.0.1"]), handler: Self.echo)
        defer { server.stop() }
        var systemOnly = HTTPClient.Configuration()
        systemOnly.trustedCAFile = nil
        await expectRefused(
            [trust.client, HTTPClient(configuration: systemOnly)].map { ($0, "certificate verify failed") }, by: server)
    }

    /// A CA file that is missing, or is not PEM, fails every https request with a message naming the
    /// file, before anything is sent (the failure is kept: a restart picks up a fixed file).
    @Test func unreadableCAFileIsNamedInTheError() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let server = try TLSTestServer(certificate: trust.authority.issue(for: ["127.0.0.1"]), handler: Self.echo)
        defer { server.stop() }
        let garbage = Self.temporaryPEMPath()
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        let attempts = ["/nonexistent/concierge-ca.pem", garbage].map { file in
            var configuration = HTTPClient.Configuration()
            configuration.trustedCAFile = file
            return (client: HTTPClient(configuration: configuration), saying: "cannot load CA file \(file)")
        }
        await expectRefused(attempts, by: server)
    }

    @Test func pooledConnectionClosedByTheServerIsRetriedOnANewOne() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let server = try TLSTestServer(
            certificate: trust.authority.issue(for: ["127.0.0.1"]), answersPerConnection: 1, handler: Self.echo)
        defer { server.stop() }
        for index in 0..<3 {
            let response = try await trust.client.get("https://127.0.0.1:\(server.port)/\(index)")
            #expect(response.text == #"{"target":"/\#(index)"}"#)
        }
        #expect(server.handshakeCount == 3)
    }

    @Test func handshakeWithASilentServerHonoursTheDeadline() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let listener = try RawListener.silent()
        defer { listener.stop() }
        let start = Monotonic.nanoseconds()
        await #expect(throws: HTTPClientError.timedOut) {
            try await trust.client.send(
                ClientRequest(method: "GET", url: "https://127.0.0.1:\(listener.port)/"), timeout: 0.5)
        }
        let waited = secondsSince(start)
        #expect(waited >= 0.45 && waited < 3, "gave up after \(waited) s")
    }

    @Test func plainHTTPServerBehindAnHTTPSURLIsAHandshakeFailure() async throws {
        let trust = try Trust()
        defer { trust.remove() }
        let listener = try RawListener { connection, _, _ in
            try? connection.writeAll(
                Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        }
        defer { listener.stop() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await trust.client.get("https://127.0.0.1:\(listener.port)/")
        }
        guard case .connectFailed(let why)? = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(why.hasPrefix("TLS handshake with 127.0.0.1 failed"), "\(why)")
    }
}
