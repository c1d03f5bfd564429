import Foundation

/// Everything Gantry knows lives behind `Store`. The SQLite store is the embedded default; a PostgreSQL store
/// implements the same calls so several replicas can share the work. Every method that changes state
/// commits before it returns. Each step of the flow sees only its own part, so its tests need fake only that.
public typealias Store = IngressStore & PlannerStore & EngineStore & ServerStore & DeliveryStore & ReconcileStore
    & ReplicaStore & StoreNotifications & AccountStore & ConsoleStore & OutboxStore

public protocol IngressStore: Sendable {
    /// Records a delivery (and its trigger, if any) in one transaction. Same binding + delivery id again: `.duplicate`.
    func ingest(_ delivery: NewDelivery) async throws -> IngestResult
    /// A trigger that did not come from a webhook (manual sync, reconcile).
    func addTrigger(_ trigger: NewTrigger) async throws -> Int64
}

public protocol PlannerStore: Sendable {
    /// The oldest pending triggers, except those of `repositories` (ones the planner is backing off from: their
    /// triggers stay pending, and reading them again on every wake-up would cost a batch each time).
    func pendingTriggers(limit: Int, excluding repositories: Set<String>) async throws -> [Trigger]
    func applications(repository: String?) async throws -> [Application]
    func application(named name: String) async throws -> Application?
    /// Upserts applications, inserts planned deployments with their stages, marks the trigger done.
    func commitPlan(_ outcome: PlanOutcome) async throws
}

extension PlannerStore {
    public func pendingTriggers(limit: Int) async throws -> [Trigger] {
        try await pendingTriggers(limit: limit, excluding: [])
    }
}

public protocol EngineStore: Sendable {
    /// The application as the last plan left it (its labels go to every invocation's event).
    func application(named name: String) async throws -> Application?
    /// For every application without an active deployment, starts its newest planned one and cancels older
    /// planned ones as superseded. Returns the deployments that became RUNNING.
    func activateNextDeployments(now: Date) async throws -> [Deployment]
    func activeDeployments() async throws -> [DeploymentDetail]
    /// These deployments, with their stages, where they are still active.
    func activeDeployments(ids: [String]) async throws -> [DeploymentDetail]
    /// Active deployments where something is due at `now` or stale: a suspended stage's timer or deadline passed,
    /// a RUNNING stage whose lease expired or has no owner, a deployment deadline passed, a cancel not acted on,
    /// approvals waiting, or no stage running or suspended at all (between stages). What waits quietly is not read.
    func dueDeployments(now: Date) async throws -> [DeploymentDetail]
    /// The engine's changes to one deployment outside any attempt (cancel, skip, fail before invoking, rollback,
    /// finish), committed together. A stage already final stays as it is. Becoming ROLLING_BACK fixes the rollback
    /// deadline (`now` + its rollback timeout) once: a later change never moves it.
    func apply(_ changes: [DeploymentChange], to deploymentID: String, now: Date) async throws
    /// Leases a stage for one invocation (status RUNNING, lease, first-start time and deadline fixed once) and
    /// records the invocation. Returns nil when the stage is not at `expectedAttempt` any more, or is RUNNING under
    /// a lease that has not expired. Taking over a RUNNING stage closes its open invocation as interrupted and
    /// counts a recovery (not after a graceful shutdown).
    func leaseStage(_ request: LeaseRequest) async throws -> (stage: Stage, invocationID: Int64)?
    func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws
    /// Fenced by attempt: false (nothing written) when `attempt` is not the stage's current running attempt.
    func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String, schema: Int?) async throws -> Bool
    func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool
    func appendLogs(_ lines: [StageLogLine]) async throws
    /// Applies an invocation's outcome, fenced by attempt, and leases the next stage with it when asked.
    func finishAttempt(_ finish: AttemptFinish) async throws -> AttemptFinished
    /// Stages RUNNING under a lease of an earlier process of this replica (owner `<replica>/...` but not
    /// `liveOwner`), of a single-process server from before replicas (owner without "/"), or of nobody: the work
    /// this process must recover at start. Other replicas' stages are taken over only when their lease expires.
    func orphanedStages(replica: String, liveOwner: String, now: Date) async throws -> [Stage]
    /// After a restart: closes the interrupted invocation and counts a recovery unless a graceful shutdown
    /// stopped it. Returns the stage as it is now.
    func markInterrupted(deploymentID: String, index: Int, now: Date) async throws -> Stage?
    /// A graceful stop is about to interrupt this attempt: its re-invocation will not count as a recovery.
    func markShutdown(deploymentID: String, index: Int, attempt: Int) async throws
    /// A graceful stop has ended this attempt's function: its lease ends now, so another replica (or this server
    /// after its restart) takes the stage over at once instead of when the lease would have run out.
    func releaseShutdownLease(deploymentID: String, index: Int, attempt: Int, now: Date) async throws
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
    func invocations(deploymentID: String, stageIndex: Int?) async throws -> [InvocationRecord]
    /// `POST /api/v1/callbacks/{token}`: the token's hash, single use (a heartbeat does not use it up).
    func resolveCallback(tokenHash: String, status: String, payloadJSON: String?, now: Date) async throws -> CallbackOutcome
}
