import FunctionKit
import GantryAPI
import Planner
import Store

/// The store's records as the API shows them (the shapes live in `GantryAPI`, shared with the CLI and tests).
extension StageView {
    init(_ s: Stage, logs: [String]? = nil, report: String? = nil) {
        self.init(index: s.index, name: s.name, status: s.status.rawValue, attempts: s.attempt, message: s.message,
                  rollback: s.rollback, with: (try? JSONValue.decode(s.withJSON)) ?? .object([:]),
                  startedAt: s.startedAt.map(RFC3339.format), completedAt: s.completedAt.map(RFC3339.format),
                  resumeAt: s.resumeAt.map(RFC3339.format), waitingFor: s.waitingFor, errorType: s.errorType,
                  recoveries: s.recoveries, report: report.flatMap { try? JSONValue.decode($0) }, logs: logs)
    }
}

extension DeploymentView {
    init(_ d: DeploymentDetail, logs: [Int: [String]]? = nil, reports: [Int: String] = [:]) {
        let x = d.deployment
        self.init(id: x.id, application: x.application, commit: x.commit, runningCommit: x.runningCommit,
                  status: x.status.rawValue, statusReason: x.statusReason, summary: x.summary, strategy: x.strategy.rawValue,
                  trigger: Trigger(kind: x.triggerKind.rawValue, commitMessage: x.commitMessage, author: x.author),
                  createdAt: RFC3339.format(x.createdAt), startedAt: x.startedAt.map(RFC3339.format),
                  completedAt: x.completedAt.map(RFC3339.format),
                  stages: d.stages.map { stage in
                      StageView(stage, logs: logs.map { byStage in byStage[stage.index] ?? [] }, report: reports[stage.index])
                  })
    }
}

extension ApplicationView {
    init(_ a: Application) {
        self.init(name: a.name, repository: a.repository, path: a.path, configFile: a.configFile, kind: a.kind,
                  platform: a.platform, runningCommit: a.runningCommit, lastTriggeredCommit: a.lastTriggeredCommit,
                  configError: a.configError, configWarnings: a.configWarnings)
    }
}

extension InvocationView {
    init(_ r: InvocationRecord) {
        self.init(attempt: r.attempt, recovery: r.recovery, function: r.functionName, functionVersion: r.functionVersion,
                  startedAt: RFC3339.format(r.startedAt), endedAt: r.endedAt.map(RFC3339.format), status: r.status,
                  errorType: r.errorType, message: r.message, report: r.reportJSON.flatMap { try? JSONValue.decode($0) })
    }
}
