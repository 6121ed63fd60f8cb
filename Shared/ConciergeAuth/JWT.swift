import ConciergeModels
import Foundation
import Synchronization

/// The claims Concierge reads from a token (SPEC §2: `sub`, `role` and `exp` required, `iat` optional).
public struct Claims: Codable, Sendable, Equatable {
    public var sub: String
    public var role: Role
    public var exp: Int
    public var iat: Int?

    public init(sub: String, role: Role, exp: Int, iat: Int? = nil) {
        self.sub = sub
        self.role = role
        self.exp = exp
        self.iat = iat
    }

    private enum CodingKeys: String, CodingKey { case sub, role, exp, iat }

    /// `exp` and `iat` are NumericDates (RFC 7519 §2): whole or fractional seconds; kept as whole seconds
    /// (rounded down). A number outside `Int` is not a well-formed claim.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sub = try container.decode(String.self, forKey: .sub)
        role = try container.decode(Role.self, forKey: .role)
        exp = try Self.numericDate(container, .exp)
        iat =
            try container.contains(.iat) && !container.decodeNil(forKey: .iat) ? Self.numericDate(container, .iat) : nil
    }

    private static func numericDate(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int {
        if let whole = try? container.decode(Int.self, forKey: key) { return whole }
        let seconds = try container.decode(Double.self, forKey: key)
        guard let whole = Int(exactly: seconds.rounded(.down)) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not a NumericDate")
        }
        return whole
    }
}

/// Why a token was refused; every case is a 401.
public enum AuthError: Error, Equatable, ProblemConvertible {
    case missingToken
    case malformed
    case unsupportedAlgorithm
    case badSignature
    case expired
    case forbidden(Role)
    case deactivated

    public var problem: Problem {
        switch self {
        case .missingToken:
            Problem(status: 401, title: "Unauthorized", detail: "An Authorization: Bearer token is required.")
        case .malformed:
            Problem(
                status: 401, title: "Unauthorized", detail: "The token is not a well-formed JWT with sub, role and exp."
            )
        case .unsupportedAlgorithm:
            Problem(status: 401, title: "Unauthorized", detail: "Only HS256 tokens are accepted.")
        case .badSignature:
            Problem(status: 401, title: "Unauthorized", detail: "The token signature does not verify.")
        case .expired:
            Problem(status: 401, title: "Unauthorized", detail: "The token has expired.")
        case .forbidden(let role):
            Problem(status: 403, title: "Forbidden", detail: "The role \(role.rawValue) may not use this route.")
        case .deactivated:
            Problem(status: 403, title: "Forbidden", detail: "The agent is deactivated.")
        }
    }
}

/// HS256 JSON Web Tokens: minting and verification through libcrypto's HMAC.
/// Verified tokens are remembered (bounded) so a client reusing its token costs one dictionary lookup.
public final class JWTSigner: Sendable {
    /// Seconds of clock skew tolerated on `exp` (SPEC §2: 60 s).
    public static let leeway = 60
    private let key: [UInt8]
    private let cache = Mutex<[String: Claims]>([:])
    private static let cacheLimit = 10_000

    public init(secret: String) {
        key = Array(secret.utf8)
    }

    public func mint(_ claims: Claims) -> String {
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Encoding four plain fields cannot fail.
        let payloadJSON = (try? encoder.encode(claims)) ?? Data()
        let signingInput = header + "." + Base64URL.encode(payloadJSON)
        let signature = Crypto.hmacSHA256(key: key, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Mints a token for `sub` with `role`, valid for `ttl` seconds from now.
    public func mint(sub: String, role: Role, ttl: Int) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return mint(Claims(sub: sub, role: role, exp: now + ttl, iat: now))
    }

    /// Verifies signature, algorithm and expiry; returns the claims.
    public func verify(_ token: String, now: Int = Int(Date().timeIntervalSince1970)) throws(AuthError) -> Claims {
        if let cached = cache.withLock({ $0[token] }) {
            guard cached.exp >= now - Self.leeway else { throw .expired }
            return cached
        }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = Base64URL.decode(Substring(parts[0])),
            let payloadBytes = Base64URL.decode(Substring(parts[1])),
            let signature = Base64URL.decode(Substring(parts[2]))
        else { throw .malformed }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else { throw .malformed }
        guard header.alg == "HS256" else { throw .unsupportedAlgorithm }
        let signingInput = Array(token.utf8[..<parts[1].endIndex])
        let expected = Crypto.hmacSHA256(key: key, message: signingInput)
        guard Crypto.constantTimeEquals(expected, signature) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)) else { throw .malformed }
        guard claims.exp >= now - Self.leeway else { throw .expired }
        cache.withLock { entries in
            if entries.count >= Self.cacheLimit { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
        return claims
    }

    private struct Header: Decodable {
        let alg: String
    }
}
