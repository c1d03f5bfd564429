import Store

/// The `pull_request` payload GitHub defined and Gitea and Forgejo copied: `action`, `number`,
/// `pull_request.{title, html_url, head.sha, base.ref, user.login}` and the base `repository`. Both serve every
/// pull request's head from the base repository at `refs/pull/N/head`, forks included.
enum GitHubStylePullRequest {
    /// GitHub says `synchronize` for new commits, Gitea `synchronized`.
    static let headChangingActions: Set<String> = ["opened", "reopened", "synchronize", "synchronized"]

    static let shape = PayloadShape.fields([
        "action": .all, "number": .all,
        "pull_request": .fields([
            "number": .all, "title": .all, "html_url": .all, "user": .fields("login", "username"),
            "head": .fields("sha", "ref"), "base": .fields("ref"),
        ]),
        "repository": .fields(Dictionary(uniqueKeysWithValues: GitHubStylePush.repositoryURLKeys.map { ($0, .all) })),
    ])

    static func read(_ payload: LooseJSON, provider: WebhookProvider) -> Interpretation {
        guard let action = payload["action"]?.string else { return .ignored(missingField("action", "a string")) }
        guard let pull = payload["pull_request"], pull.isObject else {
            return .ignored(missingField("pull_request", "an object"))
        }
        guard let number = (payload["number"] ?? pull["number"])?.positiveInteger else {
            return .ignored(missingField("number", "a positive integer"))
        }
        guard let base = pull[path: "base", "ref"]?.text else { return .ignored(missingField("pull_request.base.ref", "a string")) }
        guard let repository = payload["repository"], repository.isObject else {
            return .ignored(missingField("repository", "an object"))
        }
        var urls: [String] = []
        for key in GitHubStylePush.repositoryURLKeys {
            if let url = repository[key]?.text, !urls.contains(url) { urls.append(url) }
        }
        let event = PullRequestEvent(
            provider: provider, number: number, action: action, headMayHaveChanged: headChangingActions.contains(action),
            baseBranch: base, headCommit: pull[path: "head", "sha"]?.string ?? "", headRef: "refs/pull/\(number)/head",
            title: pull["title"]?.string ?? "", url: pull["html_url"]?.string ?? "",
            author: pull[path: "user", "login"]?.text ?? pull[path: "user", "username"]?.text ?? "")
        return .pullRequest(event, repositoryURLs: urls)
    }
}
