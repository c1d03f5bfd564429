import Store

/// The router the store asks inside its transaction: the receivers of every matching route (each once), and
/// the repository's Git host targets (commit statuses, GitHub Deployments) for the events that change them.
public struct OutboxTargets: OutboxRouter {
    let routes: [NotificationRoute]
    /// Repository ids with a Git host API configured (`repositories[].status`).
    let statusRepositories: Set<String>
    /// The subset with `deployments: true` (GitHub only).
    let deploymentRepositories: Set<String>
    /// The subset whose host takes pull request comments (GitHub, GitLab, Gitea).
    let commentRepositories: Set<String>

    public init(routes: [NotificationRoute], statusRepositories: Set<String>, deploymentRepositories: Set<String> = [],
                commentRepositories: Set<String> = []) {
        self.routes = routes; self.statusRepositories = statusRepositories
        self.deploymentRepositories = deploymentRepositories; self.commentRepositories = commentRepositories
    }

    public static func statusTarget(repository: String) -> String { "github-status:" + repository }
    public static func deploymentTarget(repository: String) -> String { "github-deployment:" + repository }
    public static func pullRequestTarget(repository: String) -> String { "pr-comment:" + repository }

    public func targets(for event: DeploymentEvent) -> [String] {
        var seen = Set<String>()
        var targets = routes.filter { $0.matches(event) }.map(\.receiver).filter { seen.insert($0).inserted }
        let repository = event.deployment.repository
        if statusRepositories.contains(repository), CommitState(event.type) != nil {
            targets.append(Self.statusTarget(repository: repository))
        }
        if deploymentRepositories.contains(repository), GitHubDeploymentReceiver.state(event) != nil {
            targets.append(Self.deploymentTarget(repository: repository))
        }
        return targets
    }

    public func commentTarget(repository: String) -> String? {
        commentRepositories.contains(repository) ? Self.pullRequestTarget(repository: repository) : nil
    }
}

/// A commit status's state for an event (GitHub's words); nil: the event does not change it.
enum CommitState: String {
    case pending, success, failure, error

    init?(_ type: DeploymentEventType) {
        switch type {
        case .planned, .started: self = .pending
        case .succeeded: self = .success
        case .failed, .triggerFailed: self = .failure
        case .cancelled: self = .error
        case .triggered, .waitApproval, .approved, .rollingBack: return nil
        }
    }
}
