import Foundation
import FunctionKit
import Store
import XCTest
@testable import Engine

/// The engine's functional core on its own: rows and a clock in, the step out. No store, no processes.
final class DeploymentStepTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let owner = "replica-a/1"

    func deployment(_ status: DeploymentStatus = .running, cancel: Bool = false, reason: String = "",
                    deadlineIn: Double = 3600, rollbackDeadlineIn: Double? = nil) -> Deployment {
        Deployment(id: "d1", application: "web", repository: "repo", appPath: "web", platform: nil, commit: "c2",
                   runningCommit: "c1", triggerKind: .webhook, commitMessage: "m", author: "a", strategy: .pipeline,
                   summary: "", status: status, statusReason: reason, deadline: now.addingTimeInterval(deadlineIn),
                   timeoutSeconds: 3600, cancelRequested: cancel,
                   rollbackDeadline: rollbackDeadlineIn.map { now.addingTimeInterval($0) })
    }

    func stage(_ index: Int, _ name: String, _ status: StageStatus = .notStarted, attempt: Int = 0,
               rollback: Bool = false, rollbackOf: Int? = nil) -> Stage {
        var s = Stage(deploymentID: "d1", index: index, name: name, rollback: rollback, rollbackOf: rollbackOf,
                      status: status, attempt: attempt)
        if status == .running { s.leaseOwner = nil }
        return s
    }

    func decide(_ d: Deployment, _ stages: [Stage], runningHere: Bool = false,
                missingTools: String?? = .none, at: Date? = nil) -> DeploymentStep {
        DeploymentStep.decide(DeploymentDetail(deployment: d, stages: stages),
                              context: .init(runningHere: runningHere, owner: owner, missingTools: missingTools),
                              now: at ?? now)
    }

    func testFirstStageStartsAsFirstRunAndTheDeadlineIsTheNextLook() {
        let step = decide(deployment(), [stage(0, "WAIT"), stage(1, "SCRIPT_RUN")])
        XCTAssertEqual(step.changes, [])
        XCTAssertEqual(step.starts.map(\.stage.index), [0])
        XCTAssertEqual(step.starts.first?.firstRun, true)
        XCTAssertEqual(step.lookAgain, now.addingTimeInterval(3600))
    }

    func testTheNextStageAfterASuccessStarts() {
        let step = decide(deployment(), [stage(0, "WAIT", .success, attempt: 1), stage(1, "SCRIPT_RUN")])
        XCTAssertEqual(step.starts.map(\.stage.index), [1])
        XCTAssertNil(step.ended)
    }

    func testAllForwardStagesDoneFinishesSuccessAndSkipsTheRollbackStages() {
        let step = decide(deployment(), [stage(0, "WAIT", .success, attempt: 1),
                                         stage(1, "ROLLBACK", rollback: true)])
        XCTAssertEqual(step.changes, [.stage(index: 1, status: .skipped, message: ""),
                                      .deployment(status: .success, reason: "")])
        XCTAssertEqual(step.ended, .success)
        XCTAssertTrue(step.starts.isEmpty)
    }

    func testAnExitedStageEndsThePipelineEarly() {
        let step = decide(deployment(), [stage(0, "WAIT", .exited, attempt: 1), stage(1, "SCRIPT_RUN")])
        XCTAssertEqual(step.changes, [.stage(index: 1, status: .skipped, message: ""),
                                      .deployment(status: .success, reason: "")])
    }

    func testAFailedStageRollsBackWhenSomethingRan() {
        var failed = stage(0, "K8S_SYNC", .failure, attempt: 1)
        failed.message = "apply failed"
        let step = decide(deployment(), [failed, stage(1, "WAIT"), stage(2, "ROLLBACK", rollback: true)])
        XCTAssertEqual(step.changes, [.stage(index: 1, status: .cancelled, message: "not run: stage K8S_SYNC failed: apply failed"),
                                      .deployment(status: .rollingBack, reason: "stage K8S_SYNC failed: apply failed")])
        XCTAssertEqual(step.rollingBack, "stage K8S_SYNC failed: apply failed")
        XCTAssertNil(step.ended)
        XCTAssertEqual(step.lookAgain, now)
    }

    func testCancelBeforeAnythingRanEndsCancelledWithoutRollback() {
        let step = decide(deployment(cancel: true), [stage(0, "WAIT"), stage(1, "ROLLBACK", rollback: true)])
        XCTAssertEqual(step.changes, [.stage(index: 0, status: .cancelled, message: "cancelled"),
                                      .stage(index: 1, status: .skipped, message: "no rollback"),
                                      .deployment(status: .cancelled, reason: "cancelled")])
        XCTAssertEqual(step.ended, .cancelled)
    }

    func testTheDeploymentDeadlineRollsBack() {
        let step = decide(deployment(deadlineIn: -1), [stage(0, "WAIT", .suspended, attempt: 1),
                                                        stage(1, "ROLLBACK", rollback: true)])
        XCTAssertEqual(step.changes.last, .deployment(status: .rollingBack, reason: "deployment timed out after 1h"))
    }

    func testARunningInvocationHereIsToldToStopOnCancelOnly() {
        let stages = [stage(0, "WAIT", .running, attempt: 1)]
        XCTAssertEqual(decide(deployment(cancel: true), stages, runningHere: true).stop, .cancel)
        XCTAssertEqual(decide(deployment(deadlineIn: -1), stages, runningHere: true).stop, .deadline)
        let quiet = decide(deployment(), stages, runningHere: true)
        XCTAssertNil(quiet.stop)
        XCTAssertEqual(quiet.changes, [])
        XCTAssertEqual(quiet.lookAgain, now.addingTimeInterval(3600))
    }

    func testAStageLeasedByAnotherReplicaIsLeftAloneUntilItsLeaseEnds() {
        var held = stage(0, "WAIT", .running, attempt: 1)
        held.leaseOwner = "replica-b/7"
        held.leaseExpiry = now.addingTimeInterval(10)
        let step = decide(deployment(cancel: true), [held])
        XCTAssertEqual(step.changes, [])
        XCTAssertEqual(step.lookAgain, now.addingTimeInterval(10.01))
        // Expired: taken over (re-invoked with its checkpoint).
        let later = decide(deployment(), [held], at: now.addingTimeInterval(11))
        XCTAssertEqual(later.starts.map(\.stage.index), [0])
        XCTAssertEqual(later.starts.first?.firstRun, false)
    }

    func testOwnRunningRowReadBeforeItsResultWasCommittedIsNotActedOn() {
        var mine = stage(0, "WAIT", .running, attempt: 1)
        mine.leaseOwner = owner
        mine.leaseExpiry = now.addingTimeInterval(10)
        let step = decide(deployment(cancel: true), [mine])
        XCTAssertEqual(step, DeploymentStep())
    }

    func testASuspendedStageResumesWhenItsTimerIsDue() {
        var waiting = stage(0, "WAIT", .suspended, attempt: 1)
        waiting.resumeAt = now.addingTimeInterval(30)
        let early = decide(deployment(), [waiting])
        XCTAssertTrue(early.starts.isEmpty)
        XCTAssertEqual(early.lookAgain, now.addingTimeInterval(30))
        let due = decide(deployment(), [waiting], at: now.addingTimeInterval(30))
        XCTAssertEqual(due.starts.first?.resume, FunctionEvent.ResumeInfo(reason: "timer"))
        waiting.waitingFor = "retry"
        XCTAssertEqual(decide(deployment(), [waiting], at: now.addingTimeInterval(30)).starts.first?.resume, nil)
        waiting.waitingFor = "callback"
        XCTAssertEqual(decide(deployment(), [waiting], at: now.addingTimeInterval(30)).starts.first?.resume,
                       FunctionEvent.ResumeInfo(reason: "timeout"))
    }

    func testAStagePastItsOwnDeadlineIsStartedOnlyToFail() {
        var waiting = stage(0, "WAIT", .suspended, attempt: 1)
        waiting.resumeAt = now.addingTimeInterval(30)
        waiting.deadline = now.addingTimeInterval(-1)
        XCTAssertEqual(decide(deployment(), [waiting]).starts.first?.resume, FunctionEvent.ResumeInfo(reason: "timeout"))
    }

    func testAnApprovalWaitAsksForTheApprovalCount() {
        var waiting = stage(0, "WAIT_APPROVAL", .suspended, attempt: 1)
        waiting.waitingFor = "approval"
        waiting.deadline = now.addingTimeInterval(600)
        let step = decide(deployment(), [waiting])
        XCTAssertEqual(step.approvalCheck?.index, 0)
        XCTAssertEqual(step.lookAgain, now.addingTimeInterval(600))
    }

    func testMissingToolsFailTheFirstStageOnce() {
        let stages = [stage(0, "K8S_SYNC")]
        let missing = decide(deployment(), stages, missingTools: .some("function kubernetes requires kubectl"))
        XCTAssertTrue(missing.checkedRequirements)
        XCTAssertEqual(missing.changes, [.stage(index: 0, status: .failure, message: "MissingTool: function kubernetes requires kubectl")])
        XCTAssertTrue(missing.starts.isEmpty)
        let fine = decide(deployment(), stages, missingTools: .some(nil))
        XCTAssertTrue(fine.checkedRequirements)
        XCTAssertEqual(fine.starts.map(\.stage.index), [0])
        XCTAssertFalse(decide(deployment(), stages).checkedRequirements)
    }

    func testRollbackSkipsWhatNeverRanAndRunsTheNextRollbackStage() {
        let stages = [stage(0, "K8S_SYNC", .failure, attempt: 1), stage(1, "SCRIPT_RUN", .cancelled),
                      stage(2, "SCRIPT_RUN_ROLLBACK", rollback: true, rollbackOf: 1),
                      stage(3, "K8S_ROLLBACK", rollback: true)]
        let step = decide(deployment(.rollingBack, reason: "stage K8S_SYNC failed", rollbackDeadlineIn: 600), stages)
        XCTAssertEqual(step.changes, [.stage(index: 2, status: .skipped, message: "SCRIPT_RUN never ran")])
        XCTAssertEqual(step.starts.map(\.stage.index), [3])
        XCTAssertEqual(step.lookAgain, now.addingTimeInterval(600))
    }

    func testAFinishedRollbackFailsTheDeploymentWithItsReason() {
        let stages = [stage(0, "K8S_SYNC", .failure, attempt: 1), stage(1, "K8S_ROLLBACK", .success, attempt: 1, rollback: true)]
        let step = decide(deployment(.rollingBack, reason: "stage K8S_SYNC failed", rollbackDeadlineIn: 600), stages)
        XCTAssertEqual(step.changes, [.deployment(status: .failure, reason: "stage K8S_SYNC failed")])
        XCTAssertEqual(step.ended, .failure)
        XCTAssertEqual(decide(deployment(.rollingBack, cancel: true, reason: "cancelled", rollbackDeadlineIn: 600), stages).ended,
                       .cancelled)
    }

    func testATimedOutRollbackCancelsWhatIsLeftAndSaysWhy() {
        let stages = [stage(0, "K8S_SYNC", .failure, attempt: 1), stage(1, "K8S_ROLLBACK", rollback: true)]
        let step = decide(deployment(.rollingBack, reason: "stage K8S_SYNC failed", rollbackDeadlineIn: -1), stages)
        XCTAssertEqual(step.changes, [
            .stage(index: 1, status: .cancelled, message: "not run: rollback timed out after 6h"),
            .deployment(status: .failure, reason: "rollback timed out after 6h (it rolled back because stage K8S_SYNC failed)")])
        // One that began is started once more, only to fail DeadlineExceeded.
        let begun = [stage(0, "K8S_SYNC", .failure, attempt: 1), stage(1, "K8S_ROLLBACK", .suspended, attempt: 1, rollback: true)]
        let again = decide(deployment(.rollingBack, rollbackDeadlineIn: -1), begun)
        XCTAssertEqual(again.starts.first?.resume, FunctionEvent.ResumeInfo(reason: "timeout"))
        XCTAssertEqual(again.changes, [])
    }

    func testTheNextStageIsLeasedWithASuccessWhenNothingElseIsToDecide() {
        var current = stage(0, "WAIT", .running, attempt: 1)
        current.leaseOwner = owner
        current.leaseExpiry = now.addingTimeInterval(10)
        let stages = [current, stage(1, "SCRIPT_RUN"), stage(2, "ROLLBACK", rollback: true)]
        let detail = DeploymentDetail(deployment: deployment(), stages: stages)
        XCTAssertEqual(DeploymentStep.followOn(succeeded: 0, in: detail, owner: owner, now: now)?.index, 1)
        // The last forward stage: the deployment finishes instead, which the loop decides.
        let last = DeploymentDetail(deployment: deployment(), stages: [current, stage(2, "ROLLBACK", rollback: true)])
        XCTAssertNil(DeploymentStep.followOn(succeeded: 0, in: last, owner: owner, now: now))
        // Cancel asked for, or the deadline passed: the loop rolls back.
        XCTAssertNil(DeploymentStep.followOn(succeeded: 0, in: DeploymentDetail(deployment: deployment(cancel: true), stages: stages),
                                             owner: owner, now: now))
        XCTAssertNil(DeploymentStep.followOn(succeeded: 0, in: DeploymentDetail(deployment: deployment(deadlineIn: -1), stages: stages),
                                             owner: owner, now: now))
        // A rollback stage's success is followed by the loop.
        XCTAssertNil(DeploymentStep.followOn(succeeded: 2, in: DeploymentDetail(deployment: deployment(.rollingBack, rollbackDeadlineIn: 60),
                                                                                 stages: stages), owner: owner, now: now))
    }
}
