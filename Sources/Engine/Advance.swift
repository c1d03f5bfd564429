import Foundation
import FunctionHost
import FunctionKit
import Store

extension Engine {
    /// Moves one active deployment forward as far as it can go now: `DeploymentStep` decides, this carries the
    /// step out (its changes in one transaction, then its invocations). Returns when it next needs a look.
    func advance(_ detail: DeploymentDetail, now: Date) async throws -> Date? {
        let d = detail.deployment
        var outputs: [String: [String: String]] = [:]
        for stage in detail.stages where stage.outputs != "{}" {
            outputs[String(stage.index)] = try? JSONDecoder().decode([String: String].self, from: Data(stage.outputs.utf8))
        }
        stageOutputs[d.id] = outputs
        let runningHere = running.keys.first(where: { $0.deployment == d.id })
        let context = DeploymentStep.Context(
            runningHere: runningHere != nil, owner: config.owner,
            missingTools: requirementsChecked.contains(d.id) ? .none : .some(missingTools(detail)))
        let step = DeploymentStep.decide(detail, context: context, now: now)

        if let stop = step.stop, let key = runningHere { running[key]?.stop(stop) }
        if step.checkedRequirements { requirementsChecked.insert(d.id) }
        try await store.apply(step.changes, to: d.id, now: now)
        if let reason = step.rollingBack { logger.info("deployment \(d.id) rolling back: \(reason)") }
        if let (status, reason) = step.newStatus, status.isFinal { ended(d, status: status, reason: reason) }
        for start in step.starts {
            if start.firstRun { newWork.append((start.stage, d)) }
            else { try await self.start(start.stage, of: d, resume: start.resume, now: now) }
        }
        if let stage = step.approvalCheck {
            let approvals = try await store.approvals(deploymentID: d.id, stageIndex: stage.index)
            if approvals.count > (approvalsSeen[StageKey(deployment: d.id, index: stage.index)] ?? 0) {
                try await start(stage, of: d, resume: FunctionEvent.ResumeInfo(reason: "approval",
                                                                               by: approvals.last?.approver), now: now)
            }
        }
        return step.lookAgain
    }

    /// `requires:` of every function the deployment will use, checked before its first stage runs: a missing
    /// tool fails the deployment up front instead of halfway through.
    private func missingTools(_ detail: DeploymentDetail) -> String? {
        let kind = detail.deployment.platform.flatMap { config.platforms[$0] }?.kind
        let registry = functions.registry
        var problems: [String] = []
        var seen = Set<String>()
        for stage in detail.stages {
            guard let function = registry.function(forStage: stage.name, platformKind: kind),
                  seen.insert(function.name).inserted else { continue }
            let missing = registry.missingTools(function)
            if !missing.isEmpty {
                problems.append("function \(function.name) requires \(missing.joined(separator: ", ")), not found on PATH")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// The deployment is over: what this process holds for it goes.
    private func ended(_ d: Deployment, status: DeploymentStatus, reason: String) {
        for key in approvalsSeen.keys where key.deployment == d.id { approvalsSeen[key] = nil }
        stageOutputs[d.id] = nil
        requirementsChecked.remove(d.id)
        // Its sources and any invocation directory a crash left behind are no longer needed (logs are in the store).
        try? FileManager.default.removeItem(atPath: DataLayout.deploymentDir(config.dataDir, deploymentID: d.id))
        FunctionHost.removeInvocationDirectory(DataLayout.invocationsDir(config.dataDir, deploymentID: d.id))
        logger.info("deployment \(d.id) of \(d.application) finished: \(status.rawValue) \(reason)")
        // Another planned deployment of this application may be waiting for this one.
        wakeup.signal()
    }
}
