/// A change the engine makes to a deployment outside any attempt: a stage's status (cancelled, skipped, failed
/// before it could run) or the deployment's own. One step's changes are committed together.
public enum DeploymentChange: Sendable, Equatable {
    case stage(index: Int, status: StageStatus, message: String)
    case deployment(status: DeploymentStatus, reason: String)
}
