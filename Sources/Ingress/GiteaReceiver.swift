import Store

/// Gitea, Forgejo (and Gogs): a bare hex HMAC-SHA256 in `X-Gitea-Signature` / `X-Forgejo-Signature` /
/// `X-Gogs-Signature`, computed over the JSON payload, which for a form-encoded hook is the decoded `payload`
/// field rather than the bytes sent. Payload, delivery and event headers follow GitHub's shape.
struct GiteaReceiver: WebhookReceiver {
    private static let signatureHeaders = ["x-forgejo-signature", "x-gitea-signature", "x-gogs-signature"]
    private static let deliveryHeaders = ["x-forgejo-delivery", "x-gitea-delivery", "x-gogs-delivery", "x-github-delivery"]
    private static let eventHeaders = ["x-forgejo-event", "x-gitea-event", "x-gogs-event", "x-github-event"]

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        let (json, reason) = PayloadBody.jsonBytes(request)
        guard let json else { return .rejected("cannot verify the signature: \(reason)") }
        if let value = request.headers.header(anyOf: Self.signatureHeaders) {
            return HexSignature(header: "X-Gitea-Signature", prefix: "").verify(value, message: json, secrets: binding.secrets)
        }
        // Recent versions also send GitHub's header; over the same JSON payload.
        if let value = request.headers.header("x-hub-signature-256") {
            return HexSignature(header: "X-Hub-Signature-256", prefix: "sha256=").verify(value, message: json,
                                                                                       secrets: binding.secrets)
        }
        return .rejected("X-Gitea-Signature header missing (nor X-Forgejo-Signature or X-Gogs-Signature)")
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { request.headers.header(anyOf: Self.deliveryHeaders) }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let event = request.headers.header(anyOf: Self.eventHeaders) ?? ""
        let interpretation: Interpretation
        switch event {
        case "": interpretation = .ignored("X-Gitea-Event header missing")
        case "ping": interpretation = .ignored("ping")
        case "push":
            switch PayloadBody.object(request, shape: GitHubStylePush.shape) {
            case .unreadable(let reason): interpretation = .ignored(reason)
            case .object(let payload): interpretation = GitHubStylePush.read(payload, provider: .gitea)
            }
        case "pull_request":
            switch PayloadBody.object(request, shape: GitHubStylePullRequest.shape) {
            case .unreadable(let reason): interpretation = .ignored(reason)
            case .object(let payload): interpretation = GitHubStylePullRequest.read(payload, provider: .gitea)
            }
        default: interpretation = .ignored("unsupported event \(event)")
        }
        return ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: event, interpretation: interpretation)
    }
}
