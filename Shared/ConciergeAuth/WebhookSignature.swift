import Foundation

/// Webhook signatures as the Standard Webhooks specification defines them: a secret `whsec_<base64>`
/// whose decoded bytes key an HMAC-SHA256 of `"<webhook-id>.<webhook-timestamp>.<body>"`, sent as
/// `webhook-signature: v1,<base64>` (several, space-separated, while a secret is being rotated).
///
/// Concierge signs its deliveries with it; a receiver written in Swift checks them with `verify`:
///
///     let ok = WebhookSignature.verify(
///         secret: "whsec_…", id: headers["webhook-id"], timestamp: headers["webhook-timestamp"],
///         signatures: headers["webhook-signature"], body: body)
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"
    /// How far a delivery's timestamp may be from the receiver's clock (replay protection): 5 minutes.
    public static let defaultTolerance: TimeInterval = 300

    /// A new random secret: `whsec_` and the base64 of 24 random bytes.
    public static func makeSecret() -> String {
        secretPrefix + Data(Crypto.randomBytes(24)).base64EncodedString()
    }

    /// The key bytes of a `whsec_` secret; `nil` if it is not one.
    public static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(secretPrefix), let data = Data(base64Encoded: String(secret.dropFirst(6))),
            !data.isEmpty
        else { return nil }
        return Array(data)
    }

    /// `v1,<base64 HMAC-SHA256>` of one delivery under one secret.
    public static func sign(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        guard let key = key(of: secret) else { return nil }
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return "v1," + Data(Crypto.hmacSHA256(key: key, message: message)).base64EncodedString()
    }

    /// The `webhook-signature` header value for `secrets` (the current one first): each signature,
    /// space-separated.
    public static func header(secrets: [String], id: String, timestamp: Int, body: [UInt8]) -> String {
        secrets.compactMap { sign(secret: $0, id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }

    /// Whether one of `signatures` (a `webhook-signature` value) is this body's under `secret`, and
    /// the timestamp is within `tolerance` of `now`. Compares in constant time.
    public static func verify(
        secret: String, id: String?, timestamp: String?, signatures: String?, body: [UInt8],
        now: Date = Date(), tolerance: TimeInterval = defaultTolerance
    ) -> Bool {
        guard let id, let timestamp, let seconds = Int(timestamp), let signatures,
            abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance,
            let expected = sign(secret: secret, id: id, timestamp: seconds, body: body)
        else { return false }
        let wanted = Array(expected.utf8)
        return signatures.split(separator: " ").contains { candidate in
            Crypto.constantTimeEquals(Array(candidate.utf8), wanted)
        }
    }
}
