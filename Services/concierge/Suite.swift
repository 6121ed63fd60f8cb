import ConciergeAuth
import ConciergeModels
import Foundation

/// A running suite as the operator commands (`status`, `backup`, `demo`) reach it: each service's
/// URL — `CONTACTS_URL` and the others when set (an `http://` or `https://` URL, else a configuration
/// error naming the variable), else 127.0.0.1 on its port (`CONTACTS_PORT`… or the default) — and a
/// signer holding the suite's secret (`CONCIERGE_JWT_SECRET` or `CONCIERGE_JWT_SECRET_FILE`, else
/// ./data/jwt-secret).
struct Suite {
    struct Member: Sendable {
        let name: String
        let url: String
    }

    let members: [Member]
    /// `nil` when the command needs no tokens (`status` reads only open routes).
    let signer: JWTSigner?

    static func from(environment: [String: String], signing: Bool = true) throws(CLIError) -> Suite {
        var members: [Member] = []
        for service in try ChildService.configured(from: environment) {
            var url = service.baseURL
            if let text = environment[service.urlVariable] {
                // A URL without a scheme is a setting to fix, not a service that is down.
                url = Self.trimmed(try URLCheck.checked(text, variable: service.urlVariable))
            }
            members.append(Member(name: service.name, url: url))
        }
        guard signing else { return Suite(members: members, signer: nil) }
        let secret: Secret
        if let fromEnvironment = try Secret.fromEnvironment(environment) {
            secret = fromEnvironment
        } else {
            secret = try Secret.read(from: TokenCommand.defaultSecretFile)
        }
        return Suite(members: members, signer: JWTSigner(secret: secret.value))
    }

    func url(of name: String) -> String {
        members.first { $0.name == name }?.url ?? ""
    }

    /// A short-lived token for one operator command.
    func token(_ role: Role, subject: String, seconds: Int = 600) -> String {
        signer?.mint(sub: subject, role: role, ttl: seconds) ?? ""
    }

    private static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
