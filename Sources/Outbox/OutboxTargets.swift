import Store

/// The router the store asks inside its transaction: the receivers of every matching route (each once), and
/// the repository's commit-status target for the events that change a commit's state.
public struct OutboxTargets: OutboxRouter {
    let routes: [NotificationRoute]
    /// Repository ids with commit statuses configured.
    let statusRepositories: Set<String>

    public init(routes: [NotificationRoute], statusRepositories: Set<String>) {
        self.routes = routes; self.statusRepositories = statusRepositories
    }

    public static func statusTarget(repository: String) -> String { "github-status:" + repository }

    public func targets(for event: DeploymentEvent) -> [String] {
        var seen = Set<String>()
        var targets = routes.filter { $0.matches(event) }.map(\.receiver).filter { seen.insert($0).inserted }
        if statusRepositories.contains(event.deployment.repository), CommitState(event.type) != nil {
            targets.append(Self.statusTarget(repository: event.deployment.repository))
        }
        return targets
    }
}

/// A commit status's state for an event (GitHub's words); nil: the event does not change it.
enum CommitState: String {
    case pending, success, failure, error

    init?(_ type: DeploymentEventType) {
        switch type {
        case .planned, .started: self = .pending
        case .succeeded: self = .success
        case .failed: self = .failure
        case .cancelled: self = .error
        case .triggered, .waitApproval, .approved, .rollingBack: return nil
        }
    }
}
