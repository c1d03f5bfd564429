import FunctionKit
import RepositoryYAML
import Store

/// An application config file (`app.gantry.yaml`, `app.pipecd.yaml`, `.pipe.yaml`, `*.pipecd.yaml`) as the
/// planner uses it. PipeCD's field names; fields the planner has no use for are ignored when parsing.
struct AppConfig: Sendable, Equatable {
    var apiVersion: String
    var kind: AppKind
    var name: String?
    var labels: [String: String] = [:]
    /// spec.platform: the name of a platform from the server config.
    var platform: String?
    var stages: [StageConfig] = []
    var alwaysUsePipeline = false
    var autoRollback = true
    var commitMatcher = CommitMatcher()
    var onCommit = OnCommitTrigger()
    /// spec.timeout: the deadline of the deployment's forward stages.
    var timeoutSeconds: Double = 6 * 3600
    /// spec.rollbackTimeout: the deadline of its rollback stages together, from when the rollback starts.
    var rollbackTimeoutSeconds: Double = Deployment.defaultRollbackTimeoutSeconds
    /// Keys neither the planner nor the kind's function reads: shown on the application, never dropped silently.
    var warnings: [ConfigProblem] = []

    var hasPipeline: Bool { !stages.isEmpty }
}

struct StageConfig: Sendable, Equatable {
    var name: String
    var id: String?
    /// The stage's `with:` as a JSON object, passed to its function unchanged.
    var with: JSONValue = .object([:])
    var timeoutSeconds: Double?
    var retry: RetryPolicy?
    var skipOn: SkipOn?
    /// Where the stage is written, for messages about it.
    var line: Int?
}

/// spec.commitMatcher: regular expressions matched against the commit message.
struct CommitMatcher: Sendable, Equatable {
    var quickSync: String?
    var pipeline: String?
}

/// spec.trigger.onCommit.
struct OnCommitTrigger: Sendable, Equatable {
    var disabled = false
    var paths: [String] = []
    var ignores: [String] = []
}

enum ConfigAPIVersion {
    static let gantry = "gantry.dev/v1"
    static let pipecd = "pipecd.dev/v1beta1"
}

/// Why a config file cannot be used, with the 1-based line it concerns when there is one:
/// "apps/web/app.pipecd.yaml line 7: mapping values are not allowed in this context".
typealias ConfigProblem = RepositoryYAML.Problem
