import Digest
import Foundation

/// Standard Webhooks (standardwebhooks.com), used by GitLab's signing token and by generic senders:
/// `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64>` (several may be
/// listed, space separated), where the signature is HMAC-SHA256 of `<id>.<timestamp>.<body>` under the key
/// that follows `whsec_` in the secret, base64-decoded. A timestamp outside the tolerance is refused, so a
/// captured request cannot be replayed later.
public enum StandardWebhooks {
    public static let secretPrefix = "whsec_"
    /// The tolerance the specification recommends, both ways (clocks drift).
    public static let tolerance: TimeInterval = 5 * 60

    /// The HMAC key of a configured secret: the decoded base64 after `whsec_`, or the raw bytes of a secret
    /// without that prefix. Nil for a `whsec_` secret that is not valid base64 (refused at start).
    static func key(forSecret secret: [UInt8]) -> [UInt8]? {
        let prefix = Array(secretPrefix.utf8)
        guard secret.starts(with: prefix) else { return secret }
        guard let data = Data(base64Encoded: Data(secret.dropFirst(prefix.count))), !data.isEmpty else { return nil }
        return Array(data)
    }

    /// `v1,<base64>` for a delivery, as a sender computes it (tests and the benchmark sign with this).
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String? {
        guard let key = key(forSecret: Array(secret.utf8)) else { return nil }
        return "v1," + Data(Digest.hmacSHA256(key: key, signedContent(id: id, timestamp: String(timestamp), body: body)))
            .base64EncodedString()
    }

    static func isPresent(_ headers: [String: String]) -> Bool { headers.header("webhook-signature") != nil }

    static func verify(_ request: WebhookRequest, secrets: [[UInt8]]) -> Authentication {
        let headers = request.headers
        guard let id = headers.header("webhook-id") else { return .rejected("webhook-id header missing") }
        guard let stamp = headers.header("webhook-timestamp") else { return .rejected("webhook-timestamp header missing") }
        guard let seconds = Int64(stamp), stamp.utf8.count <= 12 else {
            return .rejected("webhook-timestamp is not a number of seconds")
        }
        let skew = abs(request.now.timeIntervalSince1970 - Double(seconds))
        guard skew <= tolerance else {
            return .rejected("webhook-timestamp is \(Int(skew)) s away from the server's clock "
                             + "(tolerance \(Int(tolerance)) s): refused as a possible replay")
        }
        guard let list = headers.header("webhook-signature") else { return .rejected("webhook-signature header missing") }
        // Only v1 (symmetric) signatures are defined for shared secrets; others are skipped, not errors.
        let received = list.split(separator: " ").compactMap { entry -> [UInt8]? in
            guard entry.hasPrefix("v1,"), let data = Data(base64Encoded: String(entry.dropFirst(3))) else { return nil }
            return Array(data)
        }
        guard !received.isEmpty else { return .rejected("webhook-signature has no v1,<base64> signature") }
        let content = signedContent(id: id, timestamp: stamp, body: request.body)
        var matched = false
        for secret in secrets {
            guard let key = key(forSecret: secret) else { continue }
            let expected = Digest.hmacSHA256(key: key, content)
            for signature in received where Digest.constantTimeEqual(expected, signature) { matched = true }
        }
        return matched ? .verified : .rejected("webhook-signature does not match the body with any configured secret")
    }

    private static func signedContent(id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        var content = Array(id.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: timestamp.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: body)
        return content
    }
}
