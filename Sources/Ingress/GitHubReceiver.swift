import Store

/// GitHub: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the raw body), `X-GitHub-Delivery`,
/// `X-GitHub-Event`; the payload is JSON or a form with a `payload=` field, depending on the hook's setting.
/// The SHA-1 `X-Hub-Signature` counts only on a binding that allows it explicitly (`allowSHA1`).
struct GitHubReceiver: WebhookReceiver {
    private static let sha256 = HexSignature(header: "X-Hub-Signature-256", prefix: "sha256=")
    private static let sha1 = HexSignature(header: "X-Hub-Signature", prefix: "sha1=", algorithm: .sha1)

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        let headers = request.headers
        if headers.header("x-hub-signature-256") == nil, let legacy = headers.header("x-hub-signature") {
            guard binding.allowSHA1 else {
                return .rejected("X-Hub-Signature-256 header missing (the SHA-1 X-Hub-Signature is not accepted "
                                 + "unless the binding sets allowSHA1)")
            }
            return Self.sha1.verify(legacy, message: request.body, secrets: binding.secrets)
        }
        return Self.sha256.verify(headers.header("x-hub-signature-256"), message: request.body, secrets: binding.secrets)
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { request.headers.header("x-github-delivery") }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let event = request.headers.header("x-github-event") ?? ""
        return ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: event,
                                interpretation: interpret(event: event, request))
    }

    private func interpret(event: String, _ request: WebhookRequest) -> Interpretation {
        switch event {
        case "": return .ignored("X-GitHub-Event header missing")
        case "ping": return .ignored("ping")
        case "push":
            switch PayloadBody.object(request, shape: GitHubStylePush.shape) {
            case .unreadable(let reason): return .ignored(reason)
            case .object(let payload): return GitHubStylePush.read(payload, provider: .github)
            }
        case "pull_request":
            switch PayloadBody.object(request, shape: GitHubStylePullRequest.shape) {
            case .unreadable(let reason): return .ignored(reason)
            case .object(let payload): return GitHubStylePullRequest.read(payload, provider: .github)
            }
        default: return .ignored("unsupported event \(event)")
        }
    }
}
