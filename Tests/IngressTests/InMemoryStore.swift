import Foundation
import Store

/// A store for ingress unit tests: only `ingest` and `addTrigger` behave; everything else is never called.
actor InMemoryStore: Store {
    struct Unavailable: Error {}

    private var deliveries: [NewDelivery] = []
    private var triggers: [Trigger] = []
    private var failing = false
    /// Triggers committed so far, readable synchronously (from `onTrigger`, to check it came after the commit).
    nonisolated let committedTriggers = LockedCounter()

    func setFailing(_ failing: Bool) { self.failing = failing }
    func recordedDeliveries() -> [NewDelivery] { deliveries }
    func recordedTriggers() -> [Trigger] { triggers }

    func ingest(_ delivery: NewDelivery) async throws -> IngestResult {
        if failing { throw Unavailable() }
        if deliveries.contains(where: { $0.binding == delivery.binding && $0.deliveryID == delivery.deliveryID }) {
            return .duplicate
        }
        deliveries.append(delivery)
        guard let trigger = delivery.trigger else { return .recorded(triggerID: nil) }
        return .recorded(triggerID: append(trigger))
    }

    func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        if failing { throw Unavailable() }
        return append(trigger)
    }

    private func append(_ trigger: NewTrigger) -> Int64 {
        let id = Int64(triggers.count + 1)
        triggers.append(Trigger(id: id, trigger: trigger, createdAt: Date()))
        committedTriggers.increment()
        return id
    }

    func pendingTriggers(limit: Int) async throws -> [Trigger] { fatalError("unused") }
    func applications(repository: String?) async throws -> [Application] { fatalError("unused") }
    func application(named name: String) async throws -> Application? { fatalError("unused") }
    func commitPlan(_ outcome: PlanOutcome) async throws { fatalError("unused") }
    func activateNextDeployments(now: Date) async throws -> [Deployment] { fatalError("unused") }
    func activeDeployments() async throws -> [DeploymentDetail] { fatalError("unused") }
    func updateDeployment(id: String, status: DeploymentStatus, reason: String, now: Date) async throws {
        fatalError("unused")
    }
    func leaseStage(deploymentID: String, index: Int, expectedAttempt: Int, newAttempt: Bool, owner: String, leaseExpiry: Date,
                    now: Date) async throws -> Stage? { fatalError("unused") }
    func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws {
        fatalError("unused")
    }
    func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String) async throws -> Bool {
        fatalError("unused")
    }
    func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool {
        fatalError("unused")
    }
    func appendLogs(_ lines: [StageLogLine]) async throws { fatalError("unused") }
    func finishAttempt(deploymentID: String, index: Int, attempt: Int, status: StageStatus, message: String,
                       resumeAt: Date?, waitingFor: String?, now: Date) async throws -> Bool { fatalError("unused") }
    func setStageStatus(deploymentID: String, index: Int, status: StageStatus, message: String, now: Date) async throws {
        fatalError("unused")
    }
    func orphanedStages(liveOwner: String, now: Date) async throws -> [Stage] { fatalError("unused") }
    func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail] { fatalError("unused") }
    func deployment(id: String) async throws -> DeploymentDetail? { fatalError("unused") }
    func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)] {
        fatalError("unused")
    }
    func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool { fatalError("unused") }
    func addApproval(_ approval: Approval) async throws { fatalError("unused") }
    func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval] { fatalError("unused") }
}

/// A counter shared between threads without an actor hop.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
