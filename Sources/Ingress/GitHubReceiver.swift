import Store

/// GitHub: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the raw body), `X-GitHub-Delivery`,
/// `X-GitHub-Event`; the payload is JSON or a form with a `payload=` field, depending on the hook's setting.
struct GitHubReceiver: WebhookReceiver {
    private static let signatureHeader = "x-hub-signature-256"
    private static let signaturePrefix = "sha256="

    func authenticate(headers: [String: String], body: [UInt8], secrets: [[UInt8]]) -> Authentication {
        guard let header = headers.header(Self.signatureHeader) else {
            if headers.header("x-hub-signature") != nil {
                return .rejected("X-Hub-Signature-256 header missing (the SHA-1 X-Hub-Signature is not accepted)")
            }
            return .rejected("X-Hub-Signature-256 header missing")
        }
        guard header.hasPrefix(Self.signaturePrefix),
              let received = bytes(fromHex: header.dropFirst(Self.signaturePrefix.count)),
              received.count == 32
        else { return .rejected("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>") }
        // Every secret is tried, without stopping at the first match, so timing does not tell which matched.
        var matched = false
        for secret in secrets where constantTimeEquals(HMACSHA256.mac(key: secret, message: body), received) {
            matched = true
        }
        return matched ? .verified : .rejected("X-Hub-Signature-256 does not match the body with any configured secret")
    }

    func deliveryID(headers: [String: String]) -> String? { headers.header("x-github-delivery") }

    func eventName(headers: [String: String]) -> String { headers.header("x-github-event") ?? "" }

    func interpret(event: String, headers: [String: String], body: [UInt8]) -> Interpretation {
        switch event {
        case "": return .ignored("X-GitHub-Event header missing")
        case "ping": return .ignored("ping")
        case "push": return readPush(headers: headers, body: body)
        default: return .ignored("unsupported event \(event)")
        }
    }

    private func readPush(headers: [String: String], body: [UInt8]) -> Interpretation {
        var json = body
        if FormPayload.isForm(contentType: headers.header("content-type")) {
            guard let payload = FormPayload.value(of: "payload", in: body) else {
                return .ignored("unparseable payload: form body has no payload field")
            }
            json = payload
        }
        guard let payload = LooseJSON.parse(json) else { return .ignored("unparseable payload") }
        guard payload.isObject else { return .ignored("unparseable payload: not a JSON object") }
        guard let ref = payload["ref"]?.string else { return .ignored(missing("ref", "a string")) }
        guard let after = payload["after"]?.string else { return .ignored(missing("after", "a string")) }
        guard let repository = payload["repository"], repository.isObject else {
            return .ignored(missing("repository", "an object"))
        }
        var deleted = false
        if let flag = payload["deleted"], flag != .null {
            guard let value = flag.bool else { return .ignored(missing("deleted", "a boolean")) }
            deleted = value
        }
        // Display-only fields: absent or mistyped just leaves them empty.
        let headCommit = payload["head_commit"]
        let author = headCommit?["author"]?["name"]?.string ?? payload["pusher"]?["name"]?.string ?? ""
        var urls: [String] = []
        for key in ["clone_url", "ssh_url", "html_url", "git_url", "url"] {
            if let url = repository[key]?.string, !url.isEmpty, !urls.contains(url) { urls.append(url) }
        }
        let event = PushEvent(provider: WebhookProvider.github.rawValue, repositoryURLs: urls, ref: ref,
                              before: payload["before"]?.string ?? "", after: after,
                              commitMessage: headCommit?["message"]?.string ?? "", author: author)
        return .push(NormalizedPush(event: event, deleted: deleted))
    }

    private func missing(_ field: String, _ type: String) -> String {
        "payload field \"\(field)\" is missing or not \(type)"
    }
}
