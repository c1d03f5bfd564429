import Foundation
import FunctionHost
import FunctionKit
import Store

extension Engine {
    /// Moves one active deployment forward as far as it can go now. Returns when it next needs a look.
    func advance(_ detail: DeploymentDetail, now: Date) async throws -> Date? {
        let d = detail.deployment
        var outputs: [String: [String: String]] = [:]
        for stage in detail.stages where stage.outputs != "{}" {
            outputs[String(stage.index)] = try? JSONDecoder().decode([String: String].self, from: Data(stage.outputs.utf8))
        }
        stageOutputs[d.id] = outputs
        // A stage of this deployment is running here: only cancel or a deadline can interrupt it. The deadline is
        // the phase's: the deployment's for a forward stage, the rollback's for a rollback stage.
        if let key = running.keys.first(where: { $0.deployment == d.id }) {
            if d.cancelRequested, d.status == .running { running[key]?.stop(.cancel) }
            if let deadline = d.phaseDeadline, deadline <= now { running[key]?.stop(.deadline) }
            return d.phaseDeadline
        }
        // Rows read before an invocation of ours committed its result (the actor ran `finished` meanwhile): act
        // on nothing stale; that invocation's wake-up brings a fresh look.
        if detail.stages.contains(where: { $0.status == .running && $0.leaseOwner == config.owner }) { return nil }
        // Another replica runs a stage of it under a live lease: that replica alone moves the deployment on (cancel
        // and deadline included) until the stage ends or the lease expires; then this one may take it over.
        if let held = detail.stages.first(where: {
            $0.status == .running && $0.leaseOwner != nil && ($0.leaseExpiry ?? .distantPast) > now
        }) {
            return held.leaseExpiry.map { $0.addingTimeInterval(0.01) }
        }
        if d.status == .running {
            if d.cancelRequested {
                try await beginRollback(detail, cancelled: true, reason: "cancelled", now: now)
                return now
            }
            if let deadline = d.deadline, deadline <= now {
                try await beginRollback(detail, cancelled: false,
                                        reason: "deployment timed out after \(DurationText.format(d.timeoutSeconds))", now: now)
                return now
            }
            // The deployment's own deadline is a timer too, even while a stage is suspended for hours.
            return [try await advanceForward(detail, now: now), d.deadline].compactMap { $0 }.min()
        }
        return try await advanceRollback(detail, now: now)
    }

    private func advanceForward(_ detail: DeploymentDetail, now: Date) async throws -> Date? {
        let d = detail.deployment
        let forward = detail.stages.filter { !$0.rollback }
        if let failed = forward.first(where: { $0.status == .failure }) {
            try await beginRollback(detail, cancelled: false, reason: "stage \(failed.name) failed: \(failed.message)", now: now)
            return now
        }
        if forward.contains(where: { $0.status == .exited }) || forward.allSatisfy({ $0.status.isFinal }) {
            try await finish(detail, status: .success, reason: "", now: now)
            return nil
        }
        guard let stage = forward.first(where: { !$0.status.isFinal }) else { return nil }
        if !requirementsChecked.contains(d.id) {
            requirementsChecked.insert(d.id)
            if let missing = missingTools(detail) {
                try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .failure,
                                               message: "MissingTool: \(missing)", now: now)
                wakeup.signal(deployment: d.id)
                return nil
            }
        }
        return try await step(stage, of: d, now: now)
    }

    private func advanceRollback(_ detail: DeploymentDetail, now: Date) async throws -> Date? {
        let d = detail.deployment
        if let limit = d.rollbackDeadline, limit <= now {
            return try await endTimedOutRollback(detail, now: now)
        }
        for stage in detail.stages where stage.rollback && !stage.status.isFinal {
            // Undo only what was started: a SCRIPT_RUN that never ran has nothing to roll back.
            if let of = stage.rollbackOf, let forward = detail.stages.first(where: { $0.index == of }),
               forward.attempt == 0 {
                try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .skipped,
                                               message: "\(forward.name) never ran", now: now)
                continue
            }
            // The rollback's deadline is a timer too, even while a rollback stage is suspended.
            return [try await step(stage, of: d, now: now), d.rollbackDeadline].compactMap { $0 }.min()
        }
        let final: DeploymentStatus = d.cancelRequested ? .cancelled : .failure
        try await finish(detail, status: final, reason: d.statusReason, now: now)
        return nil
    }

    /// The rollback ran out of time. A rollback stage that began and is not final (suspended, or left RUNNING by a
    /// process that is gone) fails `DeadlineExceeded` through `start`, without another invocation; the rollback
    /// stages after it never run; the deployment fails saying the rollback timed out, and why it rolled back.
    private func endTimedOutRollback(_ detail: DeploymentDetail, now: Date) async throws -> Date? {
        let d = detail.deployment
        if let begun = detail.stages.first(where: { $0.rollback && ($0.status == .running || $0.status == .suspended) }) {
            // Its result wakes the engine again.
            try await start(begun, of: d, resume: FunctionEvent.ResumeInfo(reason: "timeout"), now: now)
            return nil
        }
        let why = "rollback timed out after \(DurationText.format(d.rollbackTimeoutSeconds))"
        for stage in detail.stages where stage.rollback && stage.status == .notStarted {
            try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .cancelled,
                                           message: "not run: \(why)", now: now)
        }
        logger.warning("deployment \(d.id) of \(d.application): \(why)")
        let reason = d.statusReason.isEmpty ? why : "\(why) (it rolled back because \(d.statusReason))"
        try await finish(detail, status: .failure, reason: reason, now: now)
        return nil
    }

    /// Runs, resumes or re-invokes one stage, or tells when it is due.
    private func step(_ stage: Stage, of d: Deployment, now: Date) async throws -> Date? {
        let key = StageKey(deployment: d.id, index: stage.index)
        switch stage.status {
        case .notStarted:
            newWork.append((stage, d))
        case .running:
            // Not ours (see `advance`): its process died with a previous server. Re-invoke it with its checkpoint.
            try await start(stage, of: d, resume: nil, now: now)
        case .suspended:
            if let deadline = stage.deadline, deadline <= now {
                // `start` fails a stage whose own deadline passed, without invoking it again.
                try await start(stage, of: d, resume: FunctionEvent.ResumeInfo(reason: "timeout"), now: now)
            } else if let at = stage.resumeAt, at <= now {
                // After a retry backoff the stage starts afresh (new attempt, last checkpoint): nothing to resume.
                // A stored resume (a callback's payload) wins; a timer ending a wait for something is its timeout.
                let resume: FunctionEvent.ResumeInfo?
                switch stage.waitingFor {
                case "retry": resume = nil
                case nil: resume = FunctionEvent.ResumeInfo(reason: "timer")
                default: resume = FunctionEvent.ResumeInfo(reason: "timeout")
                }
                try await start(stage, of: d, resume: resume, now: now)
            } else if stage.waitingFor == "approval" {
                let approvals = try await store.approvals(deploymentID: d.id, stageIndex: stage.index)
                if approvals.count > (approvalsSeen[key] ?? 0) {
                    try await start(stage, of: d, resume: FunctionEvent.ResumeInfo(reason: "approval",
                                                                                   by: approvals.last?.approver), now: now)
                    return nil
                }
                return [stage.resumeAt, stage.deadline].compactMap { $0 }.min()
            } else {
                return [stage.resumeAt, stage.deadline].compactMap { $0 }.min()
            }
        default:
            break
        }
        return nil
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

    /// Forward stages that will not run now are CANCELLED; then the hidden rollback stages run, if any.
    func beginRollback(_ detail: DeploymentDetail, cancelled: Bool, reason: String, now: Date) async throws {
        let d = detail.deployment
        for stage in detail.stages where !stage.rollback && !stage.status.isFinal {
            try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .cancelled,
                                           message: cancelled ? "cancelled" : "not run: \(reason)", now: now)
        }
        // Nothing to undo when no forward stage ever ran (e.g. cancelled before it started).
        let anyStarted = detail.stages.contains { !$0.rollback && $0.attempt > 0 }
        let hasRollback = detail.stages.contains { $0.rollback } && anyStarted
        let wantsRollback = cancelled ? d.cancelRollback : d.autoRollback
        if hasRollback && wantsRollback {
            logger.info("deployment \(d.id) rolling back: \(reason)")
            try await store.updateDeployment(id: d.id, status: .rollingBack, reason: reason, now: now)
        } else {
            for stage in detail.stages where stage.rollback && !stage.status.isFinal {
                try await store.setStageStatus(deploymentID: d.id, index: stage.index, status: .skipped,
                                               message: "no rollback", now: now)
            }
            try await store.updateDeployment(id: d.id, status: cancelled ? .cancelled : .failure, reason: reason, now: now)
        }
        wakeup.signal(deployment: d.id)
    }

    func finish(_ detail: DeploymentDetail, status: DeploymentStatus, reason: String, now: Date) async throws {
        let d = detail.deployment
        for stage in detail.stages where !stage.status.isFinal {
            try await store.setStageStatus(deploymentID: d.id, index: stage.index,
                                           status: stage.rollback || status == .success ? .skipped : .cancelled,
                                           message: "", now: now)
        }
        try await store.updateDeployment(id: d.id, status: status, reason: reason, now: now)
        for stage in detail.stages { approvalsSeen[StageKey(deployment: d.id, index: stage.index)] = nil }
        stageOutputs[d.id] = nil
        // Its sources and any invocation directory a crash left behind are no longer needed (logs are in the store).
        try? FileManager.default.removeItem(atPath: DataLayout.deploymentDir(config.dataDir, deploymentID: d.id))
        FunctionHost.removeInvocationDirectory(DataLayout.invocationsDir(config.dataDir, deploymentID: d.id))
        logger.info("deployment \(d.id) of \(d.application) finished: \(status.rawValue) \(reason)")
        // Another planned deployment of this application may be waiting for this one.
        wakeup.signal()
    }
}
