import Store

/// What ingress does with a delivery once it is understood.
enum Decision: Equatable {
    case accept(NewTrigger, reason: String)
    case ignore(String)
}

/// The host-independent rules that turn a normalized push into a trigger for the binding's branch, or say
/// why not. The payload is only a hint: the planner resolves the ref with git before deploying anything.
enum PushRules {
    static func decide(_ push: NormalizedPush, for binding: WebhookBinding) -> Decision {
        let event = push.event
        let ref = event.ref
        if ref.hasPrefix("refs/tags/") { return .ignore("tag push (\(ref))") }
        if push.deleted { return .ignore("branch deletion (\(ref))") }
        guard ref.hasPrefix("refs/heads/") else { return .ignore("push to \(ref), which is not a branch") }
        let watched = watchedRef(binding.branch)
        guard ref == watched else {
            return .ignore("push to \(ref), binding watches \(shortBranch(watched))")
        }
        if isAllZeros(event.after) { return .ignore("push to \(ref) has no new commit (after is all zeros)") }
        guard isCommitID(event.after) else { return .ignore("push to \(ref) names no commit id in \"after\"") }
        let trigger = NewTrigger(repository: binding.repository, ref: ref, commit: event.after, kind: .webhook,
                                 commitMessage: event.commitMessage, author: event.author)
        return .accept(trigger, reason: "push to \(ref) at \(event.after.prefix(12))")
    }

    /// The config may say `main` or `refs/heads/main`.
    static func watchedRef(_ branch: String) -> String {
        branch.hasPrefix("refs/heads/") ? branch : "refs/heads/" + branch
    }

    private static func shortBranch(_ ref: String) -> String { String(ref.dropFirst("refs/heads/".count)) }

    private static func isAllZeros(_ commit: String) -> Bool { !commit.isEmpty && commit.allSatisfy { $0 == "0" } }

    /// SHA-1 (40) or SHA-256 (64) object names in hex.
    private static func isCommitID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && bytes(fromHex: text) != nil
    }
}
