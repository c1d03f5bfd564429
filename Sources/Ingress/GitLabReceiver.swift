import Store

/// GitLab: the secret token comes back verbatim in `X-Gitlab-Token` (compared in constant time, never with
/// `!=`), and a signing token (`whsec_…`) signs with Standard Webhooks headers; either proves the sender.
/// Redeliveries keep `Idempotency-Key`; older versions only send `X-Gitlab-Event-UUID`.
struct GitLabReceiver: WebhookReceiver {
    private static let deliveryHeaders = ["idempotency-key", "x-gitlab-event-uuid", "webhook-id"]
    /// The fields `interpret` looks at.
    private static let shape = PayloadShape.fields([
        "object_kind": .all, "event_name": .all, "ref": .all, "after": .all, "before": .all, "user_name": .all,
        "project": .fields("git_http_url", "git_ssh_url", "web_url"),
        "repository": .fields("git_http_url", "git_ssh_url", "url", "homepage"),
        "commits": .elements(.fields(["id": .all, "message": .all, "author": .fields("name")])),
    ])

    func authenticate(_ request: WebhookRequest, binding: WebhookBinding) -> Authentication {
        var signature: Authentication?
        if StandardWebhooks.isPresent(request.headers) {
            signature = StandardWebhooks.verify(request, secrets: binding.secrets)
            if signature == .verified { return .verified }
        }
        if let token = request.headers.header("x-gitlab-token") {
            var matched = false
            for secret in binding.secrets where credentialEquals(Array(token.utf8), secret) { matched = true }
            if matched { return .verified }
            return signature ?? .rejected("X-Gitlab-Token does not match any configured secret")
        }
        return signature ?? .rejected("X-Gitlab-Token header missing (and no webhook-signature)")
    }

    func claimedDeliveryID(_ request: WebhookRequest) -> String? { request.headers.header(anyOf: Self.deliveryHeaders) }

    func read(_ request: WebhookRequest) -> ReceivedDelivery {
        let event = request.headers.header("x-gitlab-event") ?? ""
        return ReceivedDelivery(deliveryID: claimedDeliveryID(request), event: event,
                                interpretation: interpret(event: event, request))
    }

    private func interpret(event: String, _ request: WebhookRequest) -> Interpretation {
        guard !event.isEmpty else { return .ignored("X-Gitlab-Event header missing") }
        if event == "Merge Request Hook" {
            switch PayloadBody.object(request.body, shape: GitLabMergeRequest.shape) {
            case .unreadable(let reason): return .ignored(reason)
            case .object(let payload): return GitLabMergeRequest.read(payload)
            }
        }
        guard event == "Push Hook" || event == "Tag Push Hook" || event == "System Hook" else {
            return .ignored("unsupported event \(event)")
        }
        let payload: LooseJSON
        switch PayloadBody.object(request.body, shape: Self.shape) {
        case .unreadable(let reason): return .ignored(reason)
        case .object(let object): payload = object
        }
        // System hooks carry every kind of event; only pushes (and tag pushes) have a ref to look at.
        if let kind = payload["object_kind"]?.string ?? payload["event_name"]?.string, kind != "push", kind != "tag_push" {
            return .ignored("unsupported event \(event) (\(kind))")
        }
        guard let ref = payload["ref"]?.string else { return .ignored(missingField("ref", "a string")) }
        guard let after = payload["after"]?.string else { return .ignored(missingField("after", "a string")) }
        var urls: [String] = []
        for (object, key) in [("project", "git_http_url"), ("project", "git_ssh_url"), ("project", "web_url"),
                              ("repository", "git_http_url"), ("repository", "git_ssh_url"), ("repository", "url"),
                              ("repository", "homepage")] {
            if let url = payload[path: object, key]?.text, !urls.contains(url) { urls.append(url) }
        }
        // The pushed commit's message, if it is among the (at most 20) commits listed.
        let commit = payload["commits"]?.array?.first { $0["id"]?.string == after }
        let event = PushEvent(provider: WebhookProvider.gitlab.rawValue, repositoryURLs: urls, ref: ref,
                              before: payload["before"]?.string ?? "", after: after,
                              commitMessage: commit?["message"]?.string ?? "",
                              author: commit?[path: "author", "name"]?.text ?? payload["user_name"]?.text ?? "")
        return .pushes([NormalizedPush(event: event, deleted: isZeroCommit(after))], repositoryURLs: urls)
    }
}
