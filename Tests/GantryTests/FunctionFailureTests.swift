import Foundation
import XCTest

/// Functions that hang, eat memory or flood their output fail their own stage with a clear reason, the
/// deployment rolls back, and the server keeps serving.
final class FunctionFailureTests: XCTestCase {
    /// Test-only functions, written as bash scripts with their own function.yaml, like a user's would be.
    func makeFunctions(in root: String) throws -> String {
        let dir = root + "/functions"
        let functions: [(String, String, String)] = [
            ("hang", "stages: [HANG]\ntimeout: 2s\ngracePeriod: 1s", "sleep 1000"),
            ("hog", "stages: [HOG]\nlimits: {memory: 64Mi}",
             "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo ${#x}"),
            ("flood", "stages: [FLOOD]", "yes | head -c 100000000"), // many lines: the volume cap
        ]
        for (name, yaml, script) in functions {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(name)", withIntermediateDirectories: true)
            try "name: \(name)\n\(yaml)\ncommand: [./run.sh]\n".write(toFile: "\(dir)/\(name)/function.yaml",
                                                                      atomically: true, encoding: .utf8)
            try "#!/bin/bash\ncat > /dev/null\n\(script)\n".write(toFile: "\(dir)/\(name)/run.sh", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/\(name)/run.sh")
        }
        return dir
    }

    func testDeadlineMemoryAndFloodEachFailTheirStageAndRollBack() async throws {
        let (git, server, marks) = try await launchServer(hook: false, functionsDir: makeFunctions(in:))
        for (name, stageName) in [("hang", "HANG"), ("hog", "HOG"), ("flood", "FLOOD")] {
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
        let expected = ["hang": "DeadlineExceeded", "hog": "MemoryLimit", "flood": "OutputLimit"]
        for (app, reason) in expected {
            let id = try await eventually("deployment of \(app)") {
                try await server.deployments().first { $0["application"] as? String == app }?["id"] as? String
            }
            let done = try await server.waitForDeployment(id, timeout: 90)
            XCTAssertEqual(done["status"] as? String, "FAILURE", "\(app): \(server.logText())")
            let failed = stage(done, 1)
            XCTAssertEqual(failed["status"] as? String, "FAILURE", app)
            XCTAssertTrue((failed["message"] as? String ?? "").contains(reason), "\(app): \(failed["message"] ?? "")")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(marks)/\(app)-rolled-back"), "\(app) did not roll back")
            let rollback = stages(done).first { $0["name"] as? String == "SCRIPT_RUN_ROLLBACK" }
            XCTAssertEqual(rollback?["status"] as? String, "SUCCESS", app)
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
        XCTAssertEqual(done["status"] as? String, "FAILURE")
        XCTAssertTrue((stage(done, 0)["message"] as? String ?? "").contains("DeadlineExceeded"), "\(stage(done, 0))")
        server.stop()
    }
}
