import Store

/// Bitbucket Data Center / Server: `X-Hub-Signature: sha256=<hex>` over the raw body, `X-Request-Id` per
/// delivery, `X-Event-Key: repo:refs_changed` with every updated ref in `changes` (ADD, UPDATE, DELETE).
struct BitbucketServerReceiver: WebhookReceiver {
    private static let signature = HexSignature(header: "X-Hub-Signature", prefix: "sha256=")

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        Self.signature.verify(request.headers.header("x-hub-signature"), message: request.body, secrets: binding.secrets)
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { request.headers.header("x-request-id") }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let event = request.headers.header("x-event-key") ?? ""
        return ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: event,
                                interpretation: interpret(event: event, request))
    }

    private func interpret(event: String, _ request: WebhookRequest) -> Interpretation {
        switch event {
        case "": return .ignored("X-Event-Key header missing")
        case "diagnostics:ping": return .ignored("ping")
        case "repo:refs_changed": break
        default: return .ignored("unsupported event \(event)")
        }
        let payload: LooseJSON
        switch PayloadBody.object(request.body) {
        case .unreadable(let reason): return .ignored(reason)
        case .object(let object): payload = object
        }
        guard let changes = payload["changes"]?.array else { return .ignored(missingField("changes", "an array")) }
        var urls: [String] = []
        for link in payload[path: "repository", "links", "clone"]?.array ?? [] {
            if let url = link["href"]?.text, !urls.contains(url) { urls.append(url) }
        }
        let author = payload[path: "actor", "displayName"]?.text ?? payload[path: "actor", "name"]?.text ?? ""

        var pushes: [NormalizedPush] = []
        for (index, change) in changes.enumerated() {
            guard let ref = change["refId"]?.text ?? change[path: "ref", "id"]?.text else {
                return .ignored(missingField("changes[\(index)].refId", "a string"))
            }
            guard let after = change["toHash"]?.string else {
                return .ignored(missingField("changes[\(index)].toHash", "a string"))
            }
            let event = PushEvent(provider: WebhookProvider.bitbucketServer.rawValue, repositoryURLs: urls, ref: ref,
                                  before: change["fromHash"]?.string ?? "", after: after, commitMessage: "",
                                  author: author)
            pushes.append(NormalizedPush(event: event, deleted: change["type"]?.string == "DELETE" || isZeroCommit(after)))
        }
        return .pushes(pushes, repositoryURLs: urls)
    }
}
