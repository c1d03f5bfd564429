import Store

/// Which pull request deliveries become preview triggers: one whose head may have changed, into the branch the
/// binding deploys, from the binding's repository. Nothing here deploys; the planner only previews it.
enum PullRequestRules {
    static func decide(_ event: PullRequestEvent, for binding: WebhookBinding) -> Decision {
        let label = "pull request #\(event.number)"
        guard event.headMayHaveChanged else {
            return .ignore("\(label) \(event.action.isEmpty ? "changed" : event.action): its head did not change")
        }
        let watched = PushRules.watchedRef(binding.branch)
        let base = event.baseBranch.hasPrefix("refs/") ? event.baseBranch : "refs/heads/" + event.baseBranch
        guard base == watched else {
            return .ignore("\(label) targets \(base), binding watches \(watched.dropFirst("refs/heads/".count))")
        }
        let pullRequest = PullRequestRef(number: event.number, baseRef: watched, headRef: event.headRef,
                                         title: String(event.title.prefix(200)), url: String(event.url.prefix(500)))
        let commit = PushRules.isCommitID(event.headCommit) ? event.headCommit : nil
        let trigger = NewTrigger(repository: binding.repository, ref: event.headRef, commit: commit, kind: .pullRequest,
                                 commitMessage: String(event.title.prefix(200)), author: event.author,
                                 pullRequest: pullRequest)
        return .accept([trigger], reason: "\(label) \(event.action) at \(event.headCommit.prefix(12)): previewed, not deployed")
    }
}
