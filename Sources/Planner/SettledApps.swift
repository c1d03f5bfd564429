import Synchronization

/// What the last committed plan of each repository settled: its commit, and each application's last triggered
/// commit as that plan left it. An application whose stored last triggered commit is still the recorded one had no
/// relevant change up to that commit (it was untouched there, or deployed it), so whether a newer commit touches it
/// is decided by `git diff` from that commit alone: one diff per push for a whole monorepo, instead of one per
/// distinct last triggered commit, a number that grows with the repository's history.
final class SettledApps: Sendable {
    struct Snapshot: Sendable {
        var commit: String
        var lastTriggered: [String: String] = [:]
    }

    private struct State {
        var settled: [String: Snapshot] = [:]
        /// Planned, not yet known to be committed, by repository: (trigger, snapshot).
        var proposed: [String: (Int64, Snapshot)] = [:]
    }

    private let state = Mutex(State())

    func snapshot(repository: String) -> Snapshot? { state.withLock { $0.settled[repository] } }

    func propose(_ snapshot: Snapshot, repository: String, trigger: Int64) {
        state.withLock { $0.proposed[repository] = (trigger, snapshot) }
    }

    /// The plan of `trigger` is committed: what it settled holds from now on.
    func committed(repository: String, trigger: Int64) {
        state.withLock { state in
            guard let (proposedBy, snapshot) = state.proposed[repository], proposedBy == trigger else { return }
            state.settled[repository] = snapshot
            state.proposed[repository] = nil
        }
    }
}
