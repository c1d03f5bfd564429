import Store

/// A pull (or merge) request delivery, in the shape every host is reduced to. Only a hint like a push: the
/// planner fetches `headRef` from the repository itself before it previews anything.
struct PullRequestEvent: Equatable {
    var provider: WebhookProvider
    var number: Int
    /// The host's word for what happened (`opened`, `synchronize`, `update`, `closed`, …), for reasons.
    var action: String
    /// Whether the request's head may show something new to preview: opened, reopened, new commits. Title edits,
    /// labels, reviews and closing do not.
    var headMayHaveChanged: Bool
    /// The branch it would merge into, as the host names it (`main`).
    var baseBranch: String
    /// The head commit when the host says it (a hint; the fetched ref decides).
    var headCommit: String
    /// Where the base repository serves the head: `refs/pull/N/head`, `refs/merge-requests/N/head`.
    var headRef: String
    var title: String
    var url: String
    var author: String
}
