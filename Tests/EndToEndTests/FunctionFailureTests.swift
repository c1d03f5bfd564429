import Foundation
import GantrySupport
import XCTest

/// Functions that hang, eat memory or flood their output fail their own stage with a clear reason, the
/// deployment rolls back, and the server keeps serving.
final class FunctionFailureTests: XCTestCase {
    /// Test-only functions that misbehave in one way each.
    func makeFunctions(in root: String) throws -> String {
        try writeScriptFunctions(in: root, [
            ("hang", "stages: [HANG]\ntimeout: 2s\ngracePeriod: 1s", "cat > /dev/null\nsleep 1000"),
            ("hog", "stages: [HOG]\nlimits: {memory: 64Mi}",
             "cat > /dev/null\nx=$(head -c 300000000 /dev/zero | tr '\\0' a); echo ${#x}"),
            ("flood", "stages: [FLOOD]", "cat > /dev/null\nyes | head -c 100000000"), // many lines: the volume cap
            ("spin", "stages: [SPIN]\nlimits: {cpuSeconds: 1}", "cat > /dev/null\nwhile :; do :; done"),
        ])
    }

    func testDeadlineMemoryAndFloodEachFailTheirStageAndRollBack() async throws {
        let (git, server, marks) = try await launchServer(hook: false, functionsDir: makeFunctions(in:))
        for (name, stageName) in [("hang", "HANG"), ("hog", "HOG"), ("flood", "FLOOD"), ("spin", "SPIN")] {
            try git.write("\(name)/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: \(name)
                  pipeline:
                    stages:
                      - name: SCRIPT_RUN
                        with:
                          run: "true"
                          onRollback: touch \(marks)/\(name)-rolled-back
                      - name: \(stageName)
                """)
        }
        let commit = try git.commitAndPush("three misbehaving functions").commit
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")
        _ = try await signer.send(signer.push(after: commit, before: String(repeating: "0", count: 40)))
        let expected = ["hang": "DeadlineExceeded", "hog": "MemoryLimit", "flood": "OutputLimit", "spin": "CpuLimit"]
        for (app, reason) in expected {
            let id = try await eventually("deployment of \(app)") {
                try await server.deployments().first { $0.application == app }?.id
            }
            let done = try await server.waitForDeployment(id, timeout: 90)
            XCTAssertEqual(done.status, "FAILURE", "\(app): \(server.logText())")
            let failed = try XCTUnwrap(stage(done, 1), app)
            XCTAssertEqual(failed.status, "FAILURE", app)
            XCTAssertTrue(failed.message.contains(reason), "\(app): \(failed.message)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(marks)/\(app)-rolled-back"), "\(app) did not roll back")
            let rollback = done.stages.first { $0.name == "SCRIPT_RUN_ROLLBACK" }
            XCTAssertEqual(rollback?.status, "SUCCESS", app)
            XCTAssertEqual(failed.errorType, reason, app)
            if app == "spin" {
                // The attempt report comes from wait4's rusage: about the 1 s of CPU the limit allowed (the kernel
                // enforces RLIMIT_CPU on tick-based accounting, so on a busy VM rusage can read a little under).
                let cpu = failed.report?["cpuMs"]?.number.map(Int.init) ?? 0
                XCTAssertTrue((700...2500).contains(cpu), "spin used \(cpu) ms of CPU: \(failed)")
            }
        }
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        server.stop()
    }

    /// A stage `timeout` is a stored absolute deadline: it fails a stage even while the stage is suspended and no
    /// process runs for it (here an approval nobody gives).
    func testStageTimeoutFailsASuspendedStage() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: impatient
              pipeline:
                stages:
                  - name: WAIT_APPROVAL
                    timeout: 1s
            """)
        let commit = try git.commitAndPush("nobody approves").commit
        let done = try await server.waitForDeployment(try await server.deploymentID(commit: commit), timeout: 20)
        XCTAssertEqual(done.status, "FAILURE")
        let approval = try XCTUnwrap(stage(done, 0))
        XCTAssertTrue(approval.message.contains("DeadlineExceeded"), "\(approval)")
        server.stop()
    }
}
