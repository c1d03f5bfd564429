import Foundation

/// A finished deployment reduced to what the insights need (DORA's four keys).
public struct DeploymentOutcome: Codable, Sendable, Equatable {
    public var id: String
    public var application: String
    public var status: DeploymentStatus    // SUCCESS or FAILURE (cancelled ones are not outcomes)
    public var commitTime: Date?
    public var createdAt: Date
    public var completedAt: Date
    public init(id: String, application: String, status: DeploymentStatus, commitTime: Date?, createdAt: Date, completedAt: Date) {
        self.id = id; self.application = application; self.status = status; self.commitTime = commitTime
        self.createdAt = createdAt; self.completedAt = completedAt
    }
}

/// What the web console reads and does beyond the API's calls.
public protocol ConsoleStore: Sendable {
    /// The newest deployment of each application (one indexed lookup each).
    func latestDeployments(applications: [String]) async throws -> [String: Deployment]
    /// SUCCESS and FAILURE deployments completed in [from, to), oldest first; all applications when nil.
    func deploymentOutcomes(from: Date, to: Date, applications: [String]?) async throws -> [DeploymentOutcome]
    /// Skips a stage that is suspended (waiting for time or approval): SKIPPED, its timers cleared.
    /// False when the stage is not suspended any more.
    func skipSuspendedStage(deploymentID: String, index: Int, message: String, now: Date) async throws -> Bool
    /// Changes of a deployment since the given log id, for live pages: cheap to ask often.
    func deploymentVersion(id: String) async throws -> String?
}
