import ConciergeModels
import Foundation
import TestSupport
import Testing

@testable import ConciergeAuth

/// HS256 tokens (SPEC §2) and the libcrypto primitives under them.
@Suite struct JWTTests {
    static let secret = "a-test-secret-that-is-32-bytes-long!"
    static let now = 1_900_000_000
    let signer = JWTSigner(secret: JWTTests.secret)

    // MARK: Minting and verifying

    @Test(arguments: Role.allCases)
    func mintedTokenVerifiesToTheSameClaims(role: Role) throws {
        let claims = Claims(sub: "user-\(role.rawValue)", role: role, exp: Self.now + 3600, iat: Self.now)
        let token = signer.mint(claims)
        #expect(token.split(separator: ".", omittingEmptySubsequences: false).count == 3)
        #expect(try signer.verify(token, now: Self.now) == claims)
        // A second signer with the same secret (another service) agrees, without the first one's cache.
        #expect(try JWTSigner(secret: Self.secret).verify(token, now: Self.now) == claims)
    }

    @Test func mintedHeaderDeclaresHS256() throws {
        let token = signer.mint(Claims(sub: "a", role: .agent, exp: Self.now))
        let header = try #require(Base64URL.decode(token.split(separator: ".")[0]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(header)) as? [String: String])
        #expect(object == ["alg": "HS256", "typ": "JWT"])
    }

    @Test func mintWithTTLSetsExpiryFromNow() throws {
        let before = Int(Date().timeIntervalSince1970)
        let claims = try signer.verify(signer.mint(sub: "svc", role: .service, ttl: 3600))
        let after = Int(Date().timeIntervalSince1970)
        #expect(claims.sub == "svc")
        #expect(claims.role == .service)
        let iat = try #require(claims.iat)
        #expect((before...after).contains(iat))
        #expect(claims.exp == iat + 3600)
    }

    @Test func handMadeHS256TokenFromAnotherLibraryVerifies() throws {
        let token = craft(
            #"{"typ":"JWT","alg":"HS256"}"#, #"{"role":"team_manager","exp":1900000100,"sub":"m1","extra":[1]}"#)
        #expect(try signer.verify(token, now: Self.now) == Claims(sub: "m1", role: .teamManager, exp: 1_900_000_100))
    }

    @Test func jwtIOExampleHasAValidSignatureButNotOurClaims() {
        // The well-known jwt.io example, signed with HS256 and "your-256-bit-secret"; it has no role or exp.
        let token =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
            + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
            + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        #expect(verifyError(token, signer: JWTSigner(secret: "your-256-bit-secret")) == .malformed)
        #expect(verifyError(token, signer: signer) == .badSignature)
    }

    // MARK: Refusals

    @Test(arguments: [
        #"{"alg":"none","typ":"JWT"}"#, #"{"alg":"HS512","typ":"JWT"}"#, #"{"alg":"RS256"}"#, #"{"alg":"hs256"}"#,
    ])
    func otherAlgorithmsAreRefused(header: String) {
        let payload = #"{"sub":"a","role":"administrator","exp":1900000100}"#
        #expect(verifyError(craft(header, payload), signer: signer) == .unsupportedAlgorithm)
        // The classic `alg: none` attack sends no signature at all.
        let unsigned = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
        #expect(verifyError(unsigned, signer: signer) == .unsupportedAlgorithm)
    }

    @Test func tokenSignedWithAnotherSecretIsRefused() {
        let forged = JWTSigner(secret: "another-secret-that-is-32-bytes-long").mint(
            Claims(sub: "a", role: .administrator, exp: Self.now + 60))
        #expect(verifyError(forged, signer: signer) == .badSignature)
    }

    @Test func tamperedPayloadIsRefused() {
        let token = signer.mint(Claims(sub: "a", role: .agent, exp: Self.now + 60))
        let parts = token.split(separator: ".")
        let elevated = Base64URL.encode(Array(#"{"exp":1900000060,"role":"administrator","sub":"a"}"#.utf8))
        #expect(verifyError("\(parts[0]).\(elevated).\(parts[2])", signer: signer) == .badSignature)
        #expect(verifyError("\(parts[0]).\(parts[1]).", signer: signer) == .badSignature)
    }

    @Test func truncatedOrGarbageTokensAreMalformed() {
        let token = signer.mint(Claims(sub: "a", role: .agent, exp: Self.now + 60))
        let secondDot = token.lastIndex(of: ".") ?? token.endIndex
        let candidates = [
            "",
            "garbage",
            String(token.prefix(10)),
            String(token[..<secondDot]),
            "a.b",
            token + ".extra",
            "!!!.???.###",
            "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA",
            "abcde.abcde.abcde",
            craft("not json", #"{"sub":"a","role":"agent","exp":1900000100}"#),
            craft(#"{"typ":"JWT"}"#, #"{"sub":"a","role":"agent","exp":1900000100}"#),
            "\u{0}.\u{0}.\u{0}",
            "é.é.é",
        ]
        for candidate in candidates {
            #expect(verifyError(candidate, signer: signer) == .malformed, "\(candidate)")
        }
    }

    @Test(arguments: [
        #"{"sub":"a","role":"agent"}"#,
        #"{"sub":"a","role":"agent","exp":"soon"}"#,
        #"{"sub":"a","role":"agent","exp":null}"#,
        #"{"sub":"a","role":"agent","exp":1e300}"#,
        #"{"sub":"a","role":"agent","exp":1900000100,"iat":"then"}"#,
        #"{"sub":"a","role":"superuser","exp":1900000100}"#,
        #"{"sub":"a","role":"Agent","exp":1900000100}"#,
        #"{"role":"agent","exp":1900000100}"#,
        #"[1,2,3]"#,
        "not json",
    ])
    func correctlySignedTokenWithBadClaimsIsMalformed(payload: String) {
        #expect(verifyError(craft(#"{"alg":"HS256","typ":"JWT"}"#, payload), signer: signer) == .malformed)
    }

    @Test(arguments: [
        (secondsPastExpiry: -3600, accepted: true),
        (secondsPastExpiry: 0, accepted: true),
        (secondsPastExpiry: 30, accepted: true),
        (secondsPastExpiry: JWTSigner.leeway, accepted: true),
        (secondsPastExpiry: JWTSigner.leeway + 1, accepted: false),
        (secondsPastExpiry: 86_400, accepted: false),
    ])
    func expiryAllowsSixtySecondsOfLeeway(secondsPastExpiry: Int, accepted: Bool) {
        let token = signer.mint(Claims(sub: "a", role: .agent, exp: Self.now))
        let error = verifyError(token, signer: signer, now: Self.now + secondsPastExpiry)
        #expect(error == (accepted ? nil : .expired))
    }

    /// RFC 7519 NumericDates may be fractional; they count in whole seconds, rounded down. The largest
    /// whole `exp` expires never and cannot overflow the leeway sum.
    @Test func fractionalAndExtremeNumericDatesAreRead() throws {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let fractional = craft(header, #"{"sub":"a","role":"agent","exp":\#(Self.now).75,"iat":\#(Self.now - 10).5}"#)
        let claims = try signer.verify(fractional, now: Self.now + JWTSigner.leeway)
        #expect(claims.exp == Self.now)
        #expect(claims.iat == Self.now - 10)
        #expect(verifyError(fractional, signer: signer, now: Self.now + JWTSigner.leeway + 1) == .expired)
        let forever = craft(header, #"{"sub":"a","role":"agent","exp":\#(Int.max)}"#)
        #expect(try signer.verify(forever, now: Self.now).exp == Int.max)
        let ancient = craft(header, #"{"sub":"a","role":"agent","exp":\#(Int.min)}"#)
        #expect(verifyError(ancient, signer: signer, now: Self.now) == .expired)
    }

    @Test func rememberedTokenStillExpires() throws {
        let token = signer.mint(Claims(sub: "a", role: .agent, exp: Self.now))
        #expect(try signer.verify(token, now: Self.now).sub == "a")
        #expect(verifyError(token, signer: signer, now: Self.now + JWTSigner.leeway + 1) == .expired)
    }

    @Test func authErrorsAnswer401Or403() {
        let unauthorized: [AuthError] = [.missingToken, .malformed, .unsupportedAlgorithm, .badSignature, .expired]
        #expect(unauthorized.allSatisfy { $0.problem.status == 401 })
        #expect(AuthError.forbidden(.agent).problem.status == 403)
        #expect(AuthError.forbidden(.agent).problem.detail?.contains("agent") == true)
        #expect(AuthError.deactivated.problem.status == 403)
    }

    // MARK: Crypto

    @Test(arguments: [
        // RFC 4231 test cases 1, 2 and 6.
        HMACVector(
            key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8),
            hex: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        HMACVector(
            key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8),
            hex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        HMACVector(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            hex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func hmacSHA256MatchesRFC4231(vector: HMACVector) {
        #expect(hex(Crypto.hmacSHA256(key: vector.key, message: vector.message)) == vector.hex)
    }

    @Test func sha256MatchesFIPSVector() {
        #expect(
            hex(Crypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(Crypto.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func constantTimeEqualsComparesContentAndLength() {
        let a: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(Crypto.constantTimeEquals(a, a))
        #expect(Crypto.constantTimeEquals([], []))
        #expect(!Crypto.constantTimeEquals(a, [0, 2, 3, 4, 5, 6, 7, 8]))
        #expect(!Crypto.constantTimeEquals(a, [1, 2, 3, 4, 5, 6, 7, 9]))
        #expect(!Crypto.constantTimeEquals(a, Array(a.dropLast())))
        #expect(!Crypto.constantTimeEquals(a, a + [9]))
        #expect(!Crypto.constantTimeEquals([], [0]))
    }

    @Test func uuidIsARandomVersion4UUID() throws {
        let pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = Crypto.uuid()
            #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    @Test func randomBytesHaveTheRequestedLengthAndDiffer() {
        #expect(Crypto.randomBytes(0).isEmpty)
        let first = Crypto.randomBytes(32)
        let second = Crypto.randomBytes(32)
        #expect(first.count == 32)
        #expect(first != second)
    }

    // MARK: Base64url

    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ])
    func base64URLMatchesRFC4648WithoutPadding(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded[...]) == Array(plain.utf8))
    }

    @Test func base64URLUsesTheURLSafeAlphabetAndRoundTrips() {
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
        var random = SplitMix64(seed: 7)
        for length in 0..<64 {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(Base64URL.decode(Base64URL.encode(data)[...]) == data)
        }
    }

    @Test(arguments: ["Zg==", "Zm+v", "Zm/v", "Z", "Zm9vY", "Zm 9", "Zm9\u{0}"])
    func base64URLRejectsPaddingForeignCharactersAndImpossibleLengths(text: String) {
        #expect(Base64URL.decode(text[...]) == nil)
    }
}

struct HMACVector: Sendable, CustomTestStringConvertible {
    let key: [UInt8]
    let message: [UInt8]
    let hex: String
    var testDescription: String { String(decoding: message, as: UTF8.self) }
}

/// A token with exactly these header and payload texts, signed with HS256 under the test secret.
private func craft(_ header: String, _ payload: String, secret: String = JWTTests.secret) -> String {
    let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    let signature = Crypto.hmacSHA256(key: Array(secret.utf8), message: Array(signingInput.utf8))
    return signingInput + "." + Base64URL.encode(signature)
}

/// The reason `signer` refuses `token`, or `nil` when it accepts it.
private func verifyError(_ token: String, signer: JWTSigner, now: Int = JWTTests.now) -> AuthError? {
    do throws(AuthError) {
        _ = try signer.verify(token, now: now)
        return nil
    } catch {
        return error
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
