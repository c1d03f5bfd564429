import Foundation
import GantrySupport
import XCTest

/// `spec.timeout` bounds the forward stages of a deployment and `spec.rollbackTimeout` bounds its rollback, each
/// from its own stored start: a server restart in between neither resets nor extends either.
final class DeploymentTimeoutTests: XCTestCase {
    /// A WAIT far longer than the deployment may take: the deployment fails at `spec.timeout` counted from its
    /// start, although the server was killed and started again halfway. The rollback still runs afterwards: the
    /// deployment's deadline bounds the forward stages, not the undoing of them.
    func testDeploymentTimeoutKeepsCountingAcrossARestartAndTheRollbackStillRuns() async throws {
        let (git, server, marks) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: slow
              timeout: 8s
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: echo deployed
                      onRollback: echo undone >> "$MARKS/rolled-back"
                  - name: WAIT
                    with: {duration: 1h}
            """)
        let commit = try git.commitAndPush("waits longer than the deployment may take").commit
        let id = try await server.deploymentID(commit: commit)
        let started = try await eventually("WAIT to suspend") { () -> Date? in
            let d = try await server.deployment(id)
            return stage(d, 1)?.status == "SUSPENDED" ? parse(d.startedAt) : nil
        }
        // Part of the timeout passes before the crash: a timeout that started over would end 8 s after the restart.
        _ = try await eventually("3 s of the deployment to pass", timeout: 10) {
            Date() >= started.addingTimeInterval(3) ? true : nil
        }
        server.kill9()
        try await server.start()

        let done = try await server.waitForDeployment(id, timeout: 30)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        let reason = done.statusReason
        XCTAssertTrue(reason.contains("deployment timed out after 8s"), reason)
        let took = try XCTUnwrap(parse(done.completedAt)).timeIntervalSince(started)
        XCTAssertEqual(took, 8, accuracy: 1.5, "the deployment ended \(took)s after it started")
        XCTAssertEqual(stage(done, 0)?.status, "SUCCESS")
        let waiting = try XCTUnwrap(stage(done, 1))
        XCTAssertEqual(waiting.status, "CANCELLED", "\(waiting)")
        let rollback = try XCTUnwrap(stage(done, 2))
        XCTAssertEqual(rollback.name, "SCRIPT_RUN_ROLLBACK")
        XCTAssertEqual(rollback.status, "SUCCESS", "\(rollback)")
        XCTAssertEqual(try? String(contentsOfFile: marks + "/rolled-back", encoding: .utf8), "undone\n")
        server.stop()
    }

    /// A rollback stage that hangs: the rollback phase has its own deadline (`spec.rollbackTimeout`), stored when the
    /// deployment starts rolling back. The server is killed halfway and the hanging stage is re-invoked after the
    /// restart, yet the deployment fails at the original rollback deadline; the stage that hung is stopped and the
    /// rollback stage after it never runs.
    func testHangingRollbackEndsAtTheRollbackTimeoutAcrossARestart() async throws {
        let (git, server, marks) = try await launchServer()
        // Rollback stages run in pipeline order: the undo of stage 0 hangs, the undo of stage 1 comes after it.
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: stuck
              rollbackTimeout: 8s
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: echo deployed
                      onRollback: |
                        echo started >> "$MARKS/hanging-rollback"
                        sleep 1000
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: exit 3
                      onRollback: echo undone >> "$MARKS/second-rollback"
            """)
        let commit = try git.commitAndPush("fails, and its rollback hangs").commit
        let id = try await server.deploymentID(commit: commit)
        let rollbackStarted = try await eventually("the hanging rollback stage to run") { () -> Date? in
            let d = try await server.deployment(id)
            let s = stage(d, 2)
            return d.status == "ROLLING_BACK" && s?.status == "RUNNING" ? parse(s?.startedAt) : nil
        }
        _ = try await eventually("3 s of the rollback to pass", timeout: 10) {
            Date() >= rollbackStarted.addingTimeInterval(3) ? true : nil
        }
        server.kill9()
        try await server.start()

        let done = try await server.waitForDeployment(id, timeout: 40)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        let reason = done.statusReason
        XCTAssertTrue(reason.contains("rollback timed out after 8s"), reason)
        XCTAssertTrue(reason.contains("stage SCRIPT_RUN failed"), "the original cause is kept: \(reason)")
        let took = try XCTUnwrap(parse(done.completedAt)).timeIntervalSince(rollbackStarted)
        XCTAssertEqual(took, 8, accuracy: 2, "the rollback ended \(took)s after it started")
        let hung = try XCTUnwrap(stage(done, 2))
        XCTAssertEqual(hung.status, "FAILURE", "\(hung)")
        XCTAssertEqual(hung.errorType, "DeadlineExceeded", "\(hung)")
        XCTAssertEqual(hung.attempts, 2, "re-invoked once after the restart: \(hung)")
        let after = try XCTUnwrap(stage(done, 3))
        XCTAssertEqual(after.status, "CANCELLED", "\(after)")
        XCTAssertTrue(after.message.contains("rollback timed out"), "\(after)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marks + "/second-rollback"))
        XCTAssertEqual(try? String(contentsOfFile: marks + "/hanging-rollback", encoding: .utf8), "started\nstarted\n")
        server.stop()
    }
}
