import FunctionKit

/// A deployment's stage as `GET /api/v1/deployments/{id}` shows it (docs/rest-api.md: field names and status
/// spellings are relied on outside).
public struct StageView: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String
    public var status: String
    public var attempts: Int
    public var message: String
    public var rollback: Bool
    public var with: JSONValue
    public var startedAt: String?
    public var completedAt: String?
    public var resumeAt: String?
    public var waitingFor: String?
    public var errorType: String?
    public var recoveries: Int
    /// The host's report of the last finished invocation (wallMs, cpuMs, maxRssKiB, exitCode, signal, limitHit).
    public var report: JSONValue?
    public var logs: [String]?

    public init(index: Int, name: String, status: String, attempts: Int, message: String, rollback: Bool,
                with: JSONValue, startedAt: String? = nil, completedAt: String? = nil, resumeAt: String? = nil,
                waitingFor: String? = nil, errorType: String? = nil, recoveries: Int = 0, report: JSONValue? = nil,
                logs: [String]? = nil) {
        self.index = index; self.name = name; self.status = status; self.attempts = attempts; self.message = message
        self.rollback = rollback; self.with = with; self.startedAt = startedAt; self.completedAt = completedAt
        self.resumeAt = resumeAt; self.waitingFor = waitingFor; self.errorType = errorType; self.recoveries = recoveries
        self.report = report; self.logs = logs
    }
}

public struct DeploymentView: Codable, Sendable, Equatable {
    public struct Trigger: Codable, Sendable, Equatable {
        public var kind: String
        public var commitMessage: String
        public var author: String
        public init(kind: String, commitMessage: String, author: String) {
            self.kind = kind; self.commitMessage = commitMessage; self.author = author
        }
    }
    public var id: String
    public var application: String
    public var commit: String
    public var runningCommit: String?
    public var status: String
    public var statusReason: String
    public var summary: String
    public var strategy: String
    public var trigger: Trigger
    public var createdAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var stages: [StageView]

    public init(id: String, application: String, commit: String, runningCommit: String?, status: String,
                statusReason: String, summary: String, strategy: String, trigger: Trigger, createdAt: String,
                startedAt: String?, completedAt: String?, stages: [StageView]) {
        self.id = id; self.application = application; self.commit = commit; self.runningCommit = runningCommit
        self.status = status; self.statusReason = statusReason; self.summary = summary; self.strategy = strategy
        self.trigger = trigger; self.createdAt = createdAt; self.startedAt = startedAt; self.completedAt = completedAt
        self.stages = stages
    }

    /// The statuses a deployment ends in.
    public static let finalStatuses: Set<String> = ["SUCCESS", "FAILURE", "CANCELLED"]
    public var isFinal: Bool { Self.finalStatuses.contains(status) }
}

public struct DeploymentList: Codable, Sendable, Equatable {
    public var deployments: [DeploymentView]
    public init(deployments: [DeploymentView]) { self.deployments = deployments }
}

/// One line of `GET /api/v1/deployments/{id}/logs`.
public struct LogLineView: Codable, Sendable, Equatable {
    public var id: Int64
    public var stage: Int
    public var attempt: Int
    public var at: String
    public var line: String
    public init(id: Int64, stage: Int, attempt: Int, at: String, line: String) {
        self.id = id; self.stage = stage; self.attempt = attempt; self.at = at; self.line = line
    }
}

public struct LogList: Codable, Sendable, Equatable {
    public var lines: [LogLineView]
    /// The deployment's status when the lines were read: a follower stops after a final one with no new lines.
    public var status: String
    public init(lines: [LogLineView], status: String) { self.lines = lines; self.status = status }
}

/// One invocation of a stage's function (`GET /api/v1/deployments/{id}/stages/{index}/attempts`).
public struct InvocationView: Codable, Sendable, Equatable {
    public var attempt: Int
    public var recovery: Int
    public var function: String
    public var functionVersion: String
    public var startedAt: String
    public var endedAt: String?
    public var status: String?
    public var errorType: String?
    public var message: String?
    public var report: JSONValue?
    public init(attempt: Int, recovery: Int, function: String, functionVersion: String, startedAt: String,
                endedAt: String?, status: String?, errorType: String?, message: String?, report: JSONValue?) {
        self.attempt = attempt; self.recovery = recovery; self.function = function; self.functionVersion = functionVersion
        self.startedAt = startedAt; self.endedAt = endedAt; self.status = status; self.errorType = errorType
        self.message = message; self.report = report
    }
}

public struct InvocationList: Codable, Sendable, Equatable {
    public var attempts: [InvocationView]
    public init(attempts: [InvocationView]) { self.attempts = attempts }
}
