import Store

/// GitLab's `Merge Request Hook`: `object_attributes.{iid, action, target_branch, title, url, last_commit,
/// oldrev}` and the target `project`. An `update` carries `oldrev` only when commits were pushed; without it
/// the title, labels or assignees changed and there is nothing new to preview.
enum GitLabMergeRequest {
    static let shape = PayloadShape.fields([
        "object_kind": .all,
        "object_attributes": .fields([
            "iid": .all, "action": .all, "target_branch": .all, "title": .all, "url": .all, "oldrev": .all,
            "last_commit": .fields("id"),
        ]),
        "user": .fields("name", "username"),
        "project": .fields("git_http_url", "git_ssh_url", "web_url"),
    ])

    static func read(_ payload: LooseJSON) -> Interpretation {
        guard let request = payload["object_attributes"], request.isObject else {
            return .ignored(missingField("object_attributes", "an object"))
        }
        guard let number = request["iid"]?.positiveInteger else {
            return .ignored(missingField("object_attributes.iid", "a positive integer"))
        }
        guard let base = request["target_branch"]?.text else {
            return .ignored(missingField("object_attributes.target_branch", "a string"))
        }
        let action = request["action"]?.string ?? ""
        let newCommits = action == "update" && request["oldrev"]?.text != nil
        var urls: [String] = []
        for key in ["git_http_url", "git_ssh_url", "web_url"] {
            if let url = payload[path: "project", key]?.text, !urls.contains(url) { urls.append(url) }
        }
        let event = PullRequestEvent(
            provider: .gitlab, number: number, action: action,
            headMayHaveChanged: action == "open" || action == "reopen" || newCommits,
            baseBranch: base, headCommit: request[path: "last_commit", "id"]?.string ?? "",
            headRef: "refs/merge-requests/\(number)/head", title: request["title"]?.string ?? "",
            url: request["url"]?.string ?? "",
            author: payload[path: "user", "username"]?.text ?? payload[path: "user", "name"]?.text ?? "")
        return .pullRequest(event, repositoryURLs: urls)
    }
}
