import Foundation
import GantrySupport
import XCTest

/// `kill -9` of the server at the worst moments: nothing acknowledged is lost, nothing finished runs again,
/// timers keep their original start, and no function process outlives the server.
final class CrashRecoveryTests: XCTestCase {
    func testKillDuringSuspendedWaitAndDuringRunningScript() async throws {
        let (git, server, marks) = try await launchServer()
        // Stage 0 counts its runs. Stage 1 waits 6 s. Stage 2 hangs on its first attempt (recording its pid)
        // and succeeds on the next one.
        try git.write("svc/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: crashy
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      run: echo run >> "$MARKS/stage0-runs"
                      env: {MARKS: \(marks)}
                  - name: WAIT
                    with: {duration: 6s}
                  - name: SCRIPT_RUN
                    with:
                      env: {MARKS: \(marks)}
                      run: |
                        if [ ! -f "$MARKS/second" ]; then
                          touch "$MARKS/second"
                          sleep 1000 &
                          echo $! > "$MARKS/child-pid"
                          wait
                        fi
                        echo "finished on a later attempt"
            """)
        let commit = try git.commitAndPush("crash me").commit
        let id = try await server.deploymentID(commit: commit)
        // 1. Kill while WAIT is suspended (no process is running for it).
        _ = try await eventually("WAIT to suspend") {
            stage(try await server.deployment(id), 1)?.status == "SUSPENDED" ? true : nil
        }
        server.kill9()
        let downtime = Date()
        try await Task.sleep(nanoseconds: 2_000_000_000)   // downtime to measure against, not synchronization
        try await server.start()
        XCTAssertGreaterThan(Date().timeIntervalSince(downtime), 2)

        // 2. Kill while the second SCRIPT_RUN runs (its `sleep 1000` grandchild must not survive).
        let childPid = try await eventually("stage 2 to start its child") {
            (try? String(contentsOfFile: marks + "/child-pid", encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        server.kill9()
        _ = try await eventually("the orphaned sleep to be gone after the server died", timeout: 10) {
            kill(childPid, 0) == 0 && !isZombie(childPid) ? nil : true
        }
        try await server.start()

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        // Finished stages never ran again.
        XCTAssertEqual(try String(contentsOfFile: marks + "/stage0-runs", encoding: .utf8), "run\n")
        XCTAssertEqual(stage(done, 0)?.attempts, 1)
        // WAIT took its duration, not duration + downtime.
        let wait = try XCTUnwrap(stage(done, 1))
        let waited = try XCTUnwrap(parse(wait.completedAt)).timeIntervalSince(try XCTUnwrap(parse(wait.startedAt)))
        XCTAssertEqual(waited, 6, accuracy: 1.0, "WAIT took \(waited)s")
        // The interrupted script shows attempt 2 and its log says why.
        XCTAssertEqual(stage(done, 2)?.attempts, 2)
        let logs = stage(done, 2)?.logText ?? ""
        XCTAssertTrue(logs.contains("interrupted by a server restart"), logs)
        XCTAssertTrue(logs.contains("finished on a later attempt"), logs)
        server.stop()
    }

    func testKillRightAfter202StillDeploys() async throws {
        let (git, server, _) = try await launchServer(hook: false)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: acked
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: echo deployed}
            """)
        let commit = try git.commitAndPush("acknowledged push").commit
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        let answer = try await signer.send(signer.push(after: commit, before: String(repeating: "0", count: 40)))
        XCTAssertEqual(answer.status, 202)
        server.kill9()   // the 202 promised the trigger is durable
        try await server.start()
        let id = try await server.deploymentID(commit: commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        server.stop()
    }
}

final class GracefulStopTests: XCTestCase {
    /// SIGTERM to the server stops its running function (reason `shutdown`) without failing the stage; after a
    /// restart the stage runs again as a new attempt and the deployment finishes.
    func testSigtermLeavesRunningStageToResumeAfterRestart() async throws {
        let (git, server, marks) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: graceful
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      run: |
                        if [ ! -f \(marks)/started ]; then touch \(marks)/started; sleep 1000; fi
                        echo done
            """)
        let commit = try git.commitAndPush("stop me").commit
        let id = try await server.deploymentID(commit: commit)
        _ = try await eventually("the script to start") {
            FileManager.default.fileExists(atPath: marks + "/started") ? true : nil
        }
        let stopStarted = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopStarted), 15, "graceful stop took too long")
        try await server.start()
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(stage(done, 0)?.attempts, 2)
        XCTAssertEqual(stage(done, 0)?.recoveries, 0, "a graceful stop is not a crash recovery")
        server.stop()
    }
}
