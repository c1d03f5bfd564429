import Foundation
import FunctionHost
import FunctionKit
import Store

/// The engine's functional core: what one deployment needs now, decided from its rows, what this process runs of
/// it and the clock alone. No store, no processes, no actor: `Engine.advance` carries the step out (the changes in
/// one transaction, then the invocations), and the engine tests call `decide` directly with rows and a `now`.
struct DeploymentStep: Equatable {
    /// Stage and deployment changes, committed together before anything else of this step happens.
    var changes: [DeploymentChange] = []
    /// Invocations to start once the changes are committed.
    var starts: [StageStart] = []
    /// What the invocation of this deployment running in this process is told.
    var stop: StopReason?
    /// A WAIT_APPROVAL waiting for approvals: the store counts them, and a new one resumes the stage.
    var approvalCheck: Stage?
    /// The functions' `requires:` were looked at (once per deployment and process).
    var checkedRequirements = false
    /// When it next needs a look without an event (nil: only an event moves it).
    var lookAgain: Date?

    /// The deployment status this step sets, and why (read from its changes).
    var newStatus: (status: DeploymentStatus, reason: String)? {
        for change in changes.reversed() { if case .deployment(let status, let reason) = change { return (status, reason) } }
        return nil
    }
    /// The deployment reached this final status: what the process holds for it is released.
    var ended: DeploymentStatus? { newStatus.flatMap { $0.status.isFinal ? $0.status : nil } }
    /// It started rolling back, for this reason.
    var rollingBack: String? { newStatus.flatMap { $0.status == .rollingBack ? $0.reason : nil } }

    struct StageStart: Equatable {
        var stage: Stage
        var resume: FunctionEvent.ResumeInfo?
        /// A stage's first run waits behind resumed work for a free place (and may be left to another replica).
        var firstRun: Bool
    }

    /// What the engine knows of one active deployment besides its rows.
    struct Context {
        /// A stage of it is running in this process.
        var runningHere = false
        /// This process's lease owner name.
        var owner: String
        /// `requires:` not yet looked at for it: nil. Looked at: the tools that are missing, if any.
        var missingTools: String??
    }

    static func decide(_ detail: DeploymentDetail, context: Context, now: Date) -> DeploymentStep {
        var builder = Builder(detail: detail, now: now)
        builder.decide(context)
        return builder.step
    }

    /// The stage to lease in the same transaction that stores stage `index`'s success: the one `decide` would start
    /// next, when starting it as a first run is all it would do. Nil when anything else is to be decided first.
    static func followOn(succeeded index: Int, in detail: DeploymentDetail, owner: String, now: Date) -> Stage? {
        var after = detail
        guard let i = after.stages.firstIndex(where: { $0.index == index }) else { return nil }
        after.stages[i].status = .success
        after.stages[i].leaseOwner = nil
        after.stages[i].leaseExpiry = nil
        let step = decide(after, context: Context(owner: owner, missingTools: .none), now: now)
        guard step.changes.isEmpty, step.stop == nil, step.approvalCheck == nil, step.ended == nil,
              step.starts.count == 1, let start = step.starts.first, start.firstRun else { return nil }
        return start.stage
    }

    /// Builds one step, keeping its own copy of the stages current with the changes it makes so far.
    private struct Builder {
        let deployment: Deployment
        var stages: [Stage]
        let now: Date
        var step = DeploymentStep()

        init(detail: DeploymentDetail, now: Date) {
            deployment = detail.deployment; stages = detail.stages; self.now = now
        }

        mutating func decide(_ context: Context) {
            let d = deployment
            // A stage of it runs here: only cancel or a deadline can interrupt it. The deadline is the phase's: the
            // deployment's for a forward stage, the rollback's for a rollback stage.
            if context.runningHere {
                if d.cancelRequested, d.status == .running { step.stop = .cancel }
                else if let deadline = d.phaseDeadline, deadline <= now { step.stop = .deadline }
                step.lookAgain = d.phaseDeadline
                return
            }
            // Rows read before an invocation of ours committed its result: act on nothing stale; that invocation's
            // wake-up brings a fresh look.
            if stages.contains(where: { $0.status == .running && $0.leaseOwner == context.owner }) { return }
            // Another replica runs a stage of it under a live lease: that replica alone moves the deployment on
            // (cancel and deadline included) until the stage ends or the lease expires; then this one may take over.
            if let held = stages.first(where: {
                $0.status == .running && $0.leaseOwner != nil && ($0.leaseExpiry ?? .distantPast) > now
            }) {
                step.lookAgain = held.leaseExpiry.map { $0.addingTimeInterval(0.01) }
                return
            }
            if d.status == .running {
                if d.cancelRequested {
                    return beginRollback(cancelled: true, reason: "cancelled")
                }
                if let deadline = d.deadline, deadline <= now {
                    return beginRollback(cancelled: false,
                                         reason: "deployment timed out after \(DurationText.format(d.timeoutSeconds))")
                }
                advanceForward(context)
                // The deployment's own deadline is a timer too, even while a stage is suspended for hours.
                step.lookAgain = earliest(step.lookAgain, d.deadline)
                return
            }
            advanceRollback()
        }

        private mutating func advanceForward(_ context: Context) {
            let forward = stages.filter { !$0.rollback }
            if let failed = forward.first(where: { $0.status == .failure }) {
                return beginRollback(cancelled: false, reason: "stage \(failed.name) failed: \(failed.message)")
            }
            if forward.contains(where: { $0.status == .exited }) || forward.allSatisfy({ $0.status.isFinal }) {
                return finish(.success, reason: "")
            }
            guard let stage = forward.first(where: { !$0.status.isFinal }) else { return }
            if case .some(let missing) = context.missingTools {
                step.checkedRequirements = true
                if let missing {
                    change(stage.index, to: .failure, message: "MissingTool: \(missing)")
                    step.lookAgain = now
                    return
                }
            }
            step.lookAgain = run(stage)
        }

        private mutating func advanceRollback() {
            let d = deployment
            if let limit = d.rollbackDeadline, limit <= now { return endTimedOutRollback() }
            for stage in stages where stage.rollback && !stage.status.isFinal {
                // Undo only what was started: a SCRIPT_RUN that never ran has nothing to roll back.
                if let of = stage.rollbackOf, let forward = stages.first(where: { $0.index == of }), forward.attempt == 0 {
                    change(stage.index, to: .skipped, message: "\(forward.name) never ran")
                    continue
                }
                // The rollback's deadline is a timer too, even while a rollback stage is suspended.
                step.lookAgain = earliest(run(stage), d.rollbackDeadline)
                return
            }
            finish(d.cancelRequested ? .cancelled : .failure, reason: d.statusReason)
        }

        /// The rollback ran out of time. A rollback stage that began and is not final (suspended, or left RUNNING by
        /// a process that is gone) is started once more only to fail `DeadlineExceeded` without an invocation; the
        /// rollback stages after it never run; the deployment fails saying the rollback timed out, and why it rolled
        /// back.
        private mutating func endTimedOutRollback() {
            let d = deployment
            if let begun = stages.first(where: { $0.rollback && ($0.status == .running || $0.status == .suspended) }) {
                // Its result wakes the engine again.
                step.starts.append(StageStart(stage: begun, resume: .init(reason: "timeout"), firstRun: false))
                return
            }
            let why = "rollback timed out after \(DurationText.format(d.rollbackTimeoutSeconds))"
            for stage in stages where stage.rollback && stage.status == .notStarted {
                change(stage.index, to: .cancelled, message: "not run: \(why)")
            }
            finish(.failure, reason: d.statusReason.isEmpty ? why : "\(why) (it rolled back because \(d.statusReason))")
        }

        /// Runs, resumes or re-invokes one stage, or tells when it is due.
        private mutating func run(_ stage: Stage) -> Date? {
            switch stage.status {
            case .notStarted:
                step.starts.append(StageStart(stage: stage, resume: nil, firstRun: true))
            case .running:
                // Not ours and under no live lease: its process died with a previous server. Re-invoke it with its
                // checkpoint.
                step.starts.append(StageStart(stage: stage, resume: nil, firstRun: false))
            case .suspended:
                if let deadline = stage.deadline, deadline <= now {
                    // Starting a stage whose own deadline passed fails it, without invoking it again.
                    step.starts.append(StageStart(stage: stage, resume: .init(reason: "timeout"), firstRun: false))
                } else if let at = stage.resumeAt, at <= now {
                    // After a retry backoff the stage starts afresh (new attempt, last checkpoint): nothing to resume.
                    // A stored resume (a callback's payload) wins; a timer ending a wait for something is its timeout.
                    let resume: FunctionEvent.ResumeInfo?
                    switch stage.waitingFor {
                    case "retry": resume = nil
                    case nil: resume = .init(reason: "timer")
                    default: resume = .init(reason: "timeout")
                    }
                    step.starts.append(StageStart(stage: stage, resume: resume, firstRun: false))
                } else {
                    if stage.waitingFor == "approval" { step.approvalCheck = stage }
                    return earliest(stage.resumeAt, stage.deadline)
                }
            default:
                break
            }
            return nil
        }

        /// Forward stages that will not run now are CANCELLED; then the hidden rollback stages run, if any.
        private mutating func beginRollback(cancelled: Bool, reason: String) {
            let d = deployment
            for stage in stages where !stage.rollback && !stage.status.isFinal {
                change(stage.index, to: .cancelled, message: cancelled ? "cancelled" : "not run: \(reason)")
            }
            // Nothing to undo when no forward stage ever ran (e.g. cancelled before it started).
            let anyStarted = stages.contains { !$0.rollback && $0.attempt > 0 }
            let hasRollback = stages.contains { $0.rollback } && anyStarted
            if hasRollback && (cancelled ? d.cancelRollback : d.autoRollback) {
                step.changes.append(.deployment(status: .rollingBack, reason: reason))
            } else {
                for stage in stages where stage.rollback && !stage.status.isFinal {
                    change(stage.index, to: .skipped, message: "no rollback")
                }
                let status: DeploymentStatus = cancelled ? .cancelled : .failure
                step.changes.append(.deployment(status: status, reason: reason))
            }
            step.lookAgain = now
        }

        private mutating func finish(_ status: DeploymentStatus, reason: String) {
            for stage in stages where !stage.status.isFinal {
                change(stage.index, to: stage.rollback || status == .success ? .skipped : .cancelled, message: "")
            }
            step.changes.append(.deployment(status: status, reason: reason))
        }

        private mutating func change(_ index: Int, to status: StageStatus, message: String) {
            step.changes.append(.stage(index: index, status: status, message: message))
            if let i = stages.firstIndex(where: { $0.index == index }) { stages[i].status = status }
        }

        private func earliest(_ dates: Date?...) -> Date? { dates.compactMap { $0 }.min() }
    }
}
