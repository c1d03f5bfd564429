import Foundation
import Store

/// Just enough of a store for the planner: triggers, applications and the outcomes it commits.
actor InMemoryStore: Store {
    private(set) var triggers: [Trigger] = []
    private(set) var done: Set<Int64> = []
    private(set) var apps: [String: Application] = [:]
    private(set) var outcomes: [PlanOutcome] = []
    private var nextID: Int64 = 1

    var deployments: [DeploymentDetail] { outcomes.flatMap(\.deployments) }
    var pendingIDs: [Int64] { triggers.map(\.id).filter { !done.contains($0) } }

    func outcome(trigger id: Int64) -> PlanOutcome? { outcomes.first { $0.triggerID == id } }

    /// What the engine does after a successful deployment.
    func setRunningCommit(_ application: String, _ commit: String) {
        apps[application]?.runningCommit = commit
    }

    // MARK: used by the planner

    func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        let id = nextID
        nextID += 1
        triggers.append(Trigger(id: id, trigger: trigger, createdAt: Date()))
        return id
    }

    func pendingTriggers(limit: Int) async throws -> [Trigger] {
        Array(triggers.filter { !done.contains($0.id) }.prefix(limit))
    }

    func applications(repository: String?) async throws -> [Application] {
        apps.values.filter { repository == nil || $0.repository == repository }.sorted { $0.name < $1.name }
    }

    func application(named name: String) async throws -> Application? { apps[name] }

    func commitPlan(_ outcome: PlanOutcome) async throws {
        struct PlannedTwice: Error { let trigger: Int64 }
        if done.contains(outcome.triggerID) { throw PlannedTwice(trigger: outcome.triggerID) }
        for app in outcome.applications { apps[app.name] = app }
        outcomes.append(outcome)
        done.insert(outcome.triggerID)
    }

    // MARK: not used by the planner

    func ingest(_ delivery: NewDelivery) async throws -> IngestResult { fatalError("not used by the planner") }
    func activateNextDeployments(now: Date) async throws -> [Deployment] { fatalError("not used by the planner") }
    func activeDeployments() async throws -> [DeploymentDetail] { fatalError("not used by the planner") }
    func updateDeployment(id: String, status: DeploymentStatus, reason: String, now: Date) async throws {
        fatalError("not used by the planner")
    }
    func leaseStage(deploymentID: String, index: Int, expectedAttempt: Int, newAttempt: Bool, owner: String, leaseExpiry: Date,
                    now: Date) async throws -> Stage? { fatalError("not used by the planner") }
    func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws {
        fatalError("not used by the planner")
    }
    func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String) async throws -> Bool {
        fatalError("not used by the planner")
    }
    func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool {
        fatalError("not used by the planner")
    }
    func appendLogs(_ lines: [StageLogLine]) async throws { fatalError("not used by the planner") }
    func finishAttempt(deploymentID: String, index: Int, attempt: Int, status: StageStatus, message: String,
                       resumeAt: Date?, waitingFor: String?, now: Date) async throws -> Bool {
        fatalError("not used by the planner")
    }
    func setStageStatus(deploymentID: String, index: Int, status: StageStatus, message: String, now: Date) async throws {
        fatalError("not used by the planner")
    }
    func orphanedStages(liveOwner: String, now: Date) async throws -> [Stage] { fatalError("not used by the planner") }
    func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail] {
        fatalError("not used by the planner")
    }
    func deployment(id: String) async throws -> DeploymentDetail? { fatalError("not used by the planner") }
    func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)] {
        fatalError("not used by the planner")
    }
    func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool { fatalError("not used by the planner") }
    func addApproval(_ approval: Approval) async throws { fatalError("not used by the planner") }
    func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval] { fatalError("not used by the planner") }
}
