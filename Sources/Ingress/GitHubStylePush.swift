import Store

/// The push payload GitHub defined and Gitea, Forgejo and Gogs copied: `ref`, `before`, `after`, `deleted`,
/// `repository.{clone_url,ssh_url,html_url,…}`, `head_commit`, `pusher`.
enum GitHubStylePush {
    static let repositoryURLKeys = ["clone_url", "ssh_url", "html_url", "git_url", "url"]

    static func read(_ payload: LooseJSON, provider: WebhookProvider) -> Interpretation {
        guard let ref = payload["ref"]?.string else { return .ignored(missingField("ref", "a string")) }
        guard let after = payload["after"]?.string else { return .ignored(missingField("after", "a string")) }
        guard let repository = payload["repository"], repository.isObject else {
            return .ignored(missingField("repository", "an object"))
        }
        var deleted = false
        if let flag = payload["deleted"], flag != .null {
            guard let value = flag.bool else { return .ignored(missingField("deleted", "a boolean")) }
            deleted = value
        }
        // Display-only fields: absent or mistyped just leaves them empty.
        let headCommit = payload["head_commit"]
        let author = headCommit?[path: "author", "name"]?.text ?? payload[path: "pusher", "name"]?.text
            ?? payload[path: "pusher", "login"]?.text ?? payload[path: "pusher", "username"]?.text ?? ""
        var urls: [String] = []
        for key in repositoryURLKeys {
            if let url = repository[key]?.text, !urls.contains(url) { urls.append(url) }
        }
        let event = PushEvent(provider: provider.rawValue, repositoryURLs: urls, ref: ref,
                              before: payload["before"]?.string ?? "", after: after,
                              commitMessage: headCommit?["message"]?.string ?? "", author: author)
        return .pushes([NormalizedPush(event: event, deleted: deleted)], repositoryURLs: urls)
    }
}
