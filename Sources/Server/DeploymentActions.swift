import FunctionKit
import Hummingbird
import Store

/// What a person can do to a deployment, the same from the API and from the web UI (which adds CSRF and roles
/// in front): approve, cancel, skip, sync. Each answers an HTTP status and a reason a person can read.
struct DeploymentActions: Sendable {
    let store: any ServerStore
    /// Wakes the engine for one deployment (it reads that deployment alone).
    let wakeEngine: @Sendable (String) -> Void

    struct Outcome: Sendable { var status: HTTPResponse.Status; var reason: String }

    /// Approves the stage waiting for approval; `approvers` in the stage's `with` is enforced here too, so a
    /// refused approver learns it at once instead of the stage silently ignoring them.
    func approve(id: String, stage index: Int?, approver: String) async throws -> Outcome {
        guard let detail = try await store.deployment(id: id) else { return Outcome(status: .notFound, reason: "no deployment \(id)") }
        let waiting = detail.stages.first { s in
            s.name == "WAIT_APPROVAL" && (index.map { $0 == s.index } ?? true)
                && (s.status == .suspended || s.status == .running || s.status == .notStarted)
        }
        guard let stage = waiting, detail.deployment.status == .running else {
            return Outcome(status: .conflict, reason: "deployment \(id) has no stage waiting for approval")
        }
        if !DeploymentActions.mayApprove(stage, approver) {
            return Outcome(status: .forbidden, reason: "\(approver) is not among the approvers of stage \(stage.index): "
                           + DeploymentActions.approvers(of: stage).joined(separator: ", "))
        }
        try await store.addApproval(Approval(deploymentID: id, stageIndex: stage.index, approver: approver))
        wakeEngine(id)
        return Outcome(status: .accepted, reason: "approved by \(approver)")
    }

    /// `approvers:` in the stage's `with`; empty means anyone allowed to approve at all.
    static func approvers(of stage: Stage) -> [String] {
        let with: JSONValue = (try? JSONValue.decode(stage.withJSON)) ?? .object([:])
        return (with["approvers"]?.array ?? []).compactMap { $0.string }
    }

    static func mayApprove(_ stage: Stage, _ name: String) -> Bool {
        let allowed = approvers(of: stage)
        return allowed.isEmpty || allowed.contains(name)
    }

    func cancel(id: String, rollback: Bool) async throws -> Outcome {
        guard try await store.deployment(id: id) != nil else { return Outcome(status: .notFound, reason: "no deployment \(id)") }
        guard try await store.requestCancel(deploymentID: id, rollback: rollback) else {
            return Outcome(status: .conflict, reason: "deployment \(id) has already finished")
        }
        wakeEngine(id)
        return Outcome(status: .accepted, reason: rollback ? "cancelling" : "cancelling without rollback")
    }

    /// Stages a person may skip while they wait (PipeCD's list): nothing is left half-done by skipping them.
    static let skippable: Set<String> = ["WAIT", "WAIT_APPROVAL", "ANALYSIS"]

    static func canSkip(_ stage: Stage, of deployment: Deployment) -> Bool {
        skippable.contains(stage.name) && stage.status == .suspended && deployment.status == .running && !stage.rollback
    }

    /// Skips the stage at `index`, or (nil) the one stage that can be skipped now.
    func skip(id: String, stage index: Int?, by who: String, console: any ConsoleStore) async throws -> Outcome {
        guard let detail = try await store.deployment(id: id) else { return Outcome(status: .notFound, reason: "no deployment \(id)") }
        guard let index = index ?? detail.stages.first(where: { DeploymentActions.canSkip($0, of: detail.deployment) })?.index else {
            return Outcome(status: .conflict, reason: "deployment \(id) has no stage that can be skipped now "
                           + "(a suspended \(DeploymentActions.skippable.sorted().joined(separator: ", ")))")
        }
        guard let stage = detail.stages.first(where: { $0.index == index }) else {
            return Outcome(status: .notFound, reason: "no stage \(index) in deployment \(id)")
        }
        guard DeploymentActions.canSkip(stage, of: detail.deployment),
              try await console.skipSuspendedStage(deploymentID: id, index: index, message: "skipped by \(who)", now: .now)
        else {
            return Outcome(status: .conflict, reason: "stage \(index) (\(stage.name)) cannot be skipped now")
        }
        wakeEngine(id)
        return Outcome(status: .accepted, reason: "skipped by \(who)")
    }
}
