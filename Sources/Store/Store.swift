import Foundation

/// Everything Gantry knows lives behind `Store`. The SQLite store is the embedded default; a PostgreSQL store
/// (issue 9) implements the same calls so several replicas can share the work. Every method that changes state
/// commits before it returns. Each step of the flow sees only its own part, so its tests need fake only that.
public typealias Store = IngressStore & PlannerStore & EngineStore & ServerStore & DeliveryStore & ReconcileStore

public protocol IngressStore: Sendable {
    /// Records a delivery (and its trigger, if any) in one transaction. Same binding + delivery id again: `.duplicate`.
    func ingest(_ delivery: NewDelivery) async throws -> IngestResult
    /// A trigger that did not come from a webhook (manual sync, reconcile).
    func addTrigger(_ trigger: NewTrigger) async throws -> Int64
}

public protocol PlannerStore: Sendable {
    func pendingTriggers(limit: Int) async throws -> [Trigger]
    func applications(repository: String?) async throws -> [Application]
    func application(named name: String) async throws -> Application?
    /// Upserts applications, inserts planned deployments with their stages, marks the trigger done.
    func commitPlan(_ outcome: PlanOutcome) async throws
}

public protocol EngineStore: Sendable {
    /// For every application without an active deployment, starts its newest planned one and cancels older
    /// planned ones as superseded. Returns the deployments that became RUNNING.
    func activateNextDeployments(now: Date) async throws -> [Deployment]
    func activeDeployments() async throws -> [DeploymentDetail]
    func updateDeployment(id: String, status: DeploymentStatus, reason: String, now: Date) async throws
    /// Leases a stage for `owner`: status RUNNING, first-start time and deadline fixed once. A new attempt
    /// (first run, retry, re-invocation after a crash) increments `attempt`; resuming a suspended stage continues
    /// the same attempt. Returns nil when the stage is not at `expectedAttempt` any more (someone else moved it).
    func leaseStage(deploymentID: String, index: Int, expectedAttempt: Int, newAttempt: Bool, owner: String,
                    leaseExpiry: Date, now: Date) async throws -> Stage?
    func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws
    /// Fenced by attempt: false (nothing written) when `attempt` is not the stage's current running attempt.
    func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String) async throws -> Bool
    func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool
    func appendLogs(_ lines: [StageLogLine]) async throws
    /// Applies an attempt's result, fenced by attempt.
    func finishAttempt(deploymentID: String, index: Int, attempt: Int, status: StageStatus, message: String,
                       resumeAt: Date?, waitingFor: String?, now: Date) async throws -> Bool
    /// Sets a stage's status outside any attempt (skip, cancel, fail before invoking).
    func setStageStatus(deploymentID: String, index: Int, status: StageStatus, message: String, now: Date) async throws
    /// Stages RUNNING under a lease whose owner is not `liveOwner` or whose lease has expired.
    func orphanedStages(liveOwner: String, now: Date) async throws -> [Stage]
    func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval]
}

public protocol ServerStore: Sendable {
    func addTrigger(_ trigger: NewTrigger) async throws -> Int64
    func applications(repository: String?) async throws -> [Application]
    func application(named name: String) async throws -> Application?
    func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail]
    func deployment(id: String) async throws -> DeploymentDetail?
    func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)]
    func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool
    func addApproval(_ approval: Approval) async throws
}
