import Store

/// Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>` over the raw body, `X-Request-UUID` per delivery,
/// `X-Event-Key: repo:push`. One push lists every updated ref in `push.changes`; each becomes a push here.
struct BitbucketCloudReceiver: WebhookReceiver {
    private static let signature = HexSignature(header: "X-Hub-Signature", prefix: "sha256=")

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        Self.signature.verify(request.headers.header("x-hub-signature"), message: request.body, secrets: binding.secrets)
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { request.headers.header("x-request-uuid") }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let event = request.headers.header("x-event-key") ?? ""
        return ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: event,
                                interpretation: interpret(event: event, request))
    }

    private func interpret(event: String, _ request: WebhookRequest) -> Interpretation {
        guard !event.isEmpty else { return .ignored("X-Event-Key header missing") }
        guard event == "repo:push" else { return .ignored("unsupported event \(event)") }
        let payload: LooseJSON
        switch PayloadBody.object(request.body) {
        case .unreadable(let reason): return .ignored(reason)
        case .object(let object): payload = object
        }
        guard let changes = payload[path: "push", "changes"]?.array else {
            return .ignored(missingField("push.changes", "an array"))
        }
        let repository = payload["repository"]
        var urls: [String] = []
        // The payload has no clone URL; the repository's full name gives the one Bitbucket serves it at.
        if let fullName = repository?["full_name"]?.text { urls.append("https://bitbucket.org/\(fullName)") }
        if let html = repository?[path: "links", "html", "href"]?.text, !urls.contains(html) { urls.append(html) }
        let actor = payload[path: "actor", "display_name"]?.text ?? ""

        var pushes: [NormalizedPush] = []
        for (index, change) in changes.enumerated() {
            let new = change["new"].flatMap { $0 == .null ? nil : $0 }
            let old = change["old"].flatMap { $0 == .null ? nil : $0 }
            guard let side = new ?? old, let name = side["name"]?.text, let type = side["type"]?.text else {
                return .ignored(missingField("push.changes[\(index)].new.name/type", "a string"))
            }
            let ref: String
            switch type {
            case "branch", "named_branch": ref = "refs/heads/" + name
            case "tag", "annotated_tag": ref = "refs/tags/" + name
            default: ref = "refs/\(type)/\(name)"   // not a branch: the shared rules say so
            }
            let zeros = String(repeating: "0", count: 40)
            let target = new?["target"]
            let event = PushEvent(provider: WebhookProvider.bitbucket.rawValue, repositoryURLs: urls, ref: ref,
                                  before: old?[path: "target", "hash"]?.text ?? zeros,
                                  after: target?["hash"]?.text ?? zeros,
                                  commitMessage: target?["message"]?.string ?? "",
                                  author: target?[path: "author", "user", "display_name"]?.text
                                      ?? target?[path: "author", "raw"]?.text ?? actor)
            pushes.append(NormalizedPush(event: event, deleted: new == nil || change["closed"]?.bool == true))
        }
        return .pushes(pushes, repositoryURLs: urls)
    }
}
