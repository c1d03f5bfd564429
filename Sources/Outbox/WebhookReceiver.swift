import Foundation
import Ingress
import Store

/// A signed webhook (Standard Webhooks): the body is the stored event JSON, `webhook-id` the row's idempotency
/// key (the same on every retry, so the receiver dedupes by it), `webhook-signature` HMAC-SHA256 of
/// `id.timestamp.body` with the secret (`whsec_<base64>` or raw), as the ingress verifies its own.
struct WebhookReceiver: EventReceiver {
    let name: String
    let url: URL
    let signatureSecret: String

    /// The path too: a refused call's error names it, and some hooks carry a token in it.
    var secrets: [String] { [signatureSecret, url.absoluteString, url.path] }

    func request(for message: OutboxMessage, event: DeploymentEvent, now: Date) async throws -> OutboundRequest {
        let body = Array(message.payload.utf8)
        let timestamp = Int(now.timeIntervalSince1970)
        guard let signature = StandardWebhooks.signature(secret: signatureSecret, id: message.idempotencyKey,
                                                         timestamp: timestamp, body: body) else {
            throw SigningSecretInvalid(receiver: name)
        }
        return OutboundRequest(url: url, headers: [
            "Content-Type": "application/json", "webhook-id": message.idempotencyKey,
            "webhook-timestamp": String(timestamp), "webhook-signature": signature,
        ], body: body)
    }
}

struct SigningSecretInvalid: Error, CustomStringConvertible {
    let receiver: String
    var description: String { "receiver \(receiver): its secret starts with whsec_ but is not base64" }
}
