import Digest
import Store

/// What ingress does with a delivery once it is understood.
enum Decision: Equatable {
    case accept([NewTrigger], reason: String)
    case ignore(String)
}

/// The host-independent rules that turn a normalized delivery into triggers for the binding's branch, or say
/// why not. The payload is only a hint: the planner resolves the ref with git before deploying anything.
enum PushRules {
    /// `remote`: the binding's configured remote, parsed once when ingress starts.
    static func decide(_ interpretation: Interpretation, for binding: WebhookBinding, remote: RepositoryLocation?) -> Decision {
        switch interpretation {
        case .ignored(let reason):
            return .ignore(reason)
        case .pushes(let pushes, let urls):
            if let mismatch = repositoryMismatch(urls, binding, remote: remote) { return .ignore(mismatch) }
            guard !pushes.isEmpty else { return .ignore("the delivery lists no ref updates") }
            // Several ref updates in one delivery: each is judged on its own, every accepted one is a trigger.
            var triggers: [NewTrigger] = [], accepted: [String] = [], ignored: [String] = []
            for push in pushes {
                switch decide(push, for: binding) {
                case .accept(let more, let reason): triggers += more; appendOnce(reason, to: &accepted)
                case .ignore(let reason): appendOnce(reason, to: &ignored)
                }
            }
            if triggers.isEmpty { return .ignore(ignored.joined(separator: "; ")) }
            return .accept(triggers, reason: accepted.joined(separator: "; "))
        case .poke(let ref, let commit, let urls):
            if let mismatch = repositoryMismatch(urls, binding, remote: remote) { return .ignore(mismatch) }
            return decidePoke(ref: ref, commit: commit, for: binding)
        case .pullRequest(let event, let urls):
            if let mismatch = repositoryMismatch(urls, binding, remote: remote) { return .ignore(mismatch) }
            return PullRequestRules.decide(event, for: binding)
        }
    }

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
        if isZeroCommit(event.after) { return .ignore("push to \(ref) has no new commit (after is all zeros)") }
        guard isCommitID(event.after) else { return .ignore("push to \(ref) names no commit id in \"after\"") }
        let trigger = NewTrigger(repository: binding.repository, ref: ref, commit: event.after, kind: .webhook,
                                 commitMessage: event.commitMessage, author: event.author)
        return .accept([trigger], reason: "push to \(ref) at \(event.after.prefix(12))")
    }

    /// A generic sender's "something changed": its ref (default: the watched branch) and commit (default:
    /// the branch head, resolved by the planner) are optional.
    private static func decidePoke(ref: String?, commit: String?, for binding: WebhookBinding) -> Decision {
        let watched = watchedRef(binding.branch)
        if let ref {
            let full = ref.hasPrefix("refs/") ? ref : "refs/heads/" + ref
            guard full == watched else { return .ignore("push to \(full), binding watches \(shortBranch(watched))") }
        }
        if let commit, !isCommitID(commit) { return .ignore("push to \(watched) names no commit id in \"after\"") }
        let trigger = NewTrigger(repository: binding.repository, ref: watched, commit: commit, kind: .webhook)
        return .accept([trigger], reason: commit.map { "push to \(watched) at \($0.prefix(12))" }
                                          ?? "change signalled on \(watched): its head will be resolved")
    }

    /// Nil when the payload names the binding's repository (or names none, or no remote is configured);
    /// otherwise the reason the delivery is ignored. URLs are shown normalized, never with credentials.
    static func repositoryMismatch(_ urls: [String], _ binding: WebhookBinding, remote: RepositoryLocation?) -> String? {
        guard let remote else { return nil }
        var first: RepositoryLocation?
        for url in urls {
            guard let location = RepositoryLocation(url) else { continue }
            if location.matches(remote) { return nil }
            if first == nil { first = location }
        }
        guard let first else { return nil }
        return "repository \(first.display) is not bound here (binding \(binding.id) is for \(remote.display))"
    }

    /// The config may say `main` or `refs/heads/main`.
    static func watchedRef(_ branch: String) -> String {
        branch.hasPrefix("refs/heads/") ? branch : "refs/heads/" + branch
    }

    private static func shortBranch(_ ref: String) -> String { String(ref.dropFirst("refs/heads/".count)) }

    private static func appendOnce(_ reason: String, to list: inout [String]) {
        if !list.contains(reason) { list.append(reason) }
    }

    /// SHA-1 (40) or SHA-256 (64) object names in hex.
    static func isCommitID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && Digest.bytes(fromHex: text) != nil
    }
}
