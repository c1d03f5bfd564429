import Foundation
import FunctionKit
import Store

/// The JSON the API returns (docs/rest-api.md: field names and status spellings are relied on outside).
struct StageView: Codable, Sendable {
    var index: Int
    var name: String
    var status: String
    var attempts: Int
    var message: String
    var rollback: Bool
    var with: JSONValue
    var startedAt: String?
    var completedAt: String?
    var resumeAt: String?
    var waitingFor: String?
    var errorType: String?
    var recoveries: Int
    /// The host's report of the last finished invocation (wallMs, cpuMs, maxRssKiB, exitCode, signal, limitHit).
    var report: JSONValue?
    var logs: [String]?

    init(_ s: Stage, logs: [String]? = nil, report: String? = nil) {
        index = s.index; name = s.name; status = s.status.rawValue; attempts = s.attempt; message = s.message
        rollback = s.rollback; with = (try? JSONValue.decode(s.withJSON)) ?? .object([:])
        startedAt = s.startedAt.map(RFC3339.format); completedAt = s.completedAt.map(RFC3339.format)
        resumeAt = s.resumeAt.map(RFC3339.format); waitingFor = s.waitingFor
        errorType = s.errorType; recoveries = s.recoveries
        self.report = report.flatMap { try? JSONValue.decode($0) }
        self.logs = logs
    }
}

struct DeploymentView: Codable, Sendable {
    struct Trigger: Codable, Sendable { var kind: String; var commitMessage: String; var author: String }
    var id: String
    var application: String
    var commit: String
    var runningCommit: String?
    var status: String
    var statusReason: String
    var summary: String
    var strategy: String
    var trigger: Trigger
    var createdAt: String
    var startedAt: String?
    var completedAt: String?
    var stages: [StageView]

    init(_ d: DeploymentDetail, logs: [Int: [String]]? = nil, reports: [Int: String] = [:]) {
        let x = d.deployment
        id = x.id; application = x.application; commit = x.commit; runningCommit = x.runningCommit
        status = x.status.rawValue; statusReason = x.statusReason; summary = x.summary; strategy = x.strategy.rawValue
        trigger = Trigger(kind: x.triggerKind.rawValue, commitMessage: x.commitMessage, author: x.author)
        createdAt = RFC3339.format(x.createdAt); startedAt = x.startedAt.map(RFC3339.format)
        completedAt = x.completedAt.map(RFC3339.format)
        stages = d.stages.map { stage in
            StageView(stage, logs: logs.map { byStage in byStage[stage.index] ?? [] }, report: reports[stage.index])
        }
    }
}

struct DeploymentList: Codable, Sendable { var deployments: [DeploymentView] }

struct ApplicationView: Codable, Sendable {
    var name: String
    var repository: String
    var path: String
    var configFile: String
    var kind: String
    var platform: String?
    var runningCommit: String?
    var lastTriggeredCommit: String?
    var configError: String?
    init(_ a: Application) {
        name = a.name; repository = a.repository; path = a.path; configFile = a.configFile; kind = a.kind
        platform = a.platform; runningCommit = a.runningCommit; lastTriggeredCommit = a.lastTriggeredCommit
        configError = a.configError
    }
}

struct ApplicationList: Codable, Sendable { var applications: [ApplicationView] }

struct LogLineView: Codable, Sendable { var id: Int64; var stage: Int; var attempt: Int; var at: String; var line: String }
struct LogList: Codable, Sendable { var lines: [LogLineView]; var status: String }

struct Message: Codable, Sendable {
    var status: String
    var reason: String
    var id: String?
}

struct InvocationView: Codable, Sendable {
    var attempt: Int
    var recovery: Int
    var function: String
    var functionVersion: String
    var startedAt: String
    var endedAt: String?
    var status: String?
    var errorType: String?
    var message: String?
    var report: JSONValue?
    init(_ r: InvocationRecord) {
        attempt = r.attempt; recovery = r.recovery; function = r.functionName; functionVersion = r.functionVersion
        startedAt = RFC3339.format(r.startedAt); endedAt = r.endedAt.map(RFC3339.format); status = r.status
        errorType = r.errorType; message = r.message; report = r.reportJSON.flatMap { try? JSONValue.decode($0) }
    }
}

struct InvocationList: Codable, Sendable { var attempts: [InvocationView] }

/// `details.functionIsolation` in /healthz: what the start-up check found.
struct IsolationHealth: Codable, Sendable {
    /// `required` or `off` (functions.isolation).
    var mode: String
    /// Whether invocations run isolated.
    var active: Bool
    /// Who functions run as.
    var user: String
    var uid: UInt32
    /// Whether `network: none` can be applied here.
    var networkNone: Bool
    /// Why isolation cannot be set up on this machine (only ever with `off`: `required` refuses to start).
    var problem: String?
}

/// /healthz: `status` stays the one thing load balancers read; `details` is for people.
struct Health: Codable, Sendable {
    struct Details: Codable, Sendable { var functionIsolation: IsolationHealth? }
    var status: String
    var reason: String
    var details: Details
}
