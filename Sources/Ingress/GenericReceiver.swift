import Store

/// Any other sender (a CI job, a script, a chat bot): Flux-style `X-Signature: sha256=<hex>` over the raw
/// body, or Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with its replay
/// window. The body may name `ref` and `after` (or `commit`); otherwise the binding's branch head is resolved.
struct GenericReceiver: WebhookReceiver {
    private static let signature = HexSignature(header: "X-Signature", prefix: "sha256=")

    /// The same body ("deploy!") may legitimately arrive again for a new change: only a sender's own id dedupes.
    var namesDeliveriesByBody: Bool { false }

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        if StandardWebhooks.isPresent(request.headers) { return StandardWebhooks.verify(request, secrets: binding.secrets) }
        guard let value = request.headers.header("x-signature") else {
            return .rejected("X-Signature header missing (and no webhook-signature)")
        }
        return Self.signature.verify(value, message: request.body, secrets: binding.secrets)
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? {
        request.headers.header(anyOf: ["webhook-id", "x-request-id"])
    }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: "generic", interpretation: interpret(request.body))
    }

    private func interpret(_ body: [UInt8]) -> Interpretation {
        // A body that is not a JSON object still says "something changed": the signature made it count.
        guard case .object(let payload) = PayloadBody.object(body) else {
            return .poke(ref: nil, commit: nil, repositoryURLs: [])
        }
        var urls: [String] = []
        if let url = payload["repository"]?.text { urls.append(url) }
        for key in ["url", "clone_url"] { if let url = payload[path: "repository", key]?.text { urls.append(url) } }
        return .poke(ref: payload["ref"]?.text, commit: payload["after"]?.text ?? payload["commit"]?.text,
                     repositoryURLs: urls)
    }
}
