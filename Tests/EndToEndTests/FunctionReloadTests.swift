import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// Functions under `functions.paths` are picked up while the server runs: added, changed and removed folders
/// take effect without a restart, and a broken function.yaml added later is logged without disturbing the others.
final class FunctionReloadTests: XCTestCase {
    func testFunctionsAddedChangedAndRemovedWhileServingAreUsedWithoutARestart() async throws {
        let (git, server, marks) = try await launchServer(functionsDir: { root in
            try writeScriptFunctions(in: root, [("greet", "stages: [GREET]", "cat > /dev/null")])
        })
        func hello(_ version: String, stages: String) throws {
            _ = try writeScriptFunctions(in: server.root, [("hello", "stages: \(stages)", """
                cat > /dev/null
                echo "hello \(version) serving $GANTRY_STAGE" >&2
                echo "\(version) $GANTRY_STAGE" >> \(marks)/hello
                """)])
        }
        func deploy(_ stages: [String], _ message: String) async throws -> DeploymentView {
            try git.write("app/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: greeter
                  pipeline:
                    stages:
                \(stages.map { "      - name: \($0)" }.joined(separator: "\n"))
                """)
            let commit = try git.commitAndPush(message).commit
            return try await server.waitForDeployment(try await server.deploymentID(commit: commit))
        }
        func helloRuns() -> [String] {
            ((try? String(contentsOfFile: marks + "/hello", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        // Added: a new folder serving a new stage name.
        try hello("v1", stages: "[HELLO]")
        let first = try await deploy(["HELLO"], "uses a function added after the server started")
        XCTAssertEqual(first.status, "SUCCESS", "\(first)\n\(server.logText())")
        XCTAssertEqual(helloRuns(), ["v1 HELLO"])

        // Changed: the same folder now serves one more stage with a new script; a broken function.yaml appears
        // beside it, is logged, and keeps nothing else from loading.
        try FileManager.default.createDirectory(atPath: server.root + "/functions/broken", withIntermediateDirectories: true)
        try "name: broken\nstages: [BROKEN\ncommand: [./run.sh]\n"
            .write(toFile: server.root + "/functions/broken/function.yaml", atomically: true, encoding: .utf8)
        try hello("v2", stages: "[HELLO, HELLO_AGAIN]")
        let second = try await deploy(["HELLO", "HELLO_AGAIN", "GREET"], "uses the changed function")
        XCTAssertEqual(second.status, "SUCCESS", "\(second)\n\(server.logText())")
        XCTAssertEqual(helloRuns(), ["v1 HELLO", "v2 HELLO", "v2 HELLO_AGAIN"])
        let versions = try await server.attempts(first.id, stage: 0)
        let newer = try await server.attempts(second.id, stage: 0)
        XCTAssertNotNil(versions.first?.functionVersion)
        XCTAssertNotEqual(versions.first?.functionVersion, newer.first?.functionVersion,
                          "the changed folder is a new version")
        let log = server.logText()
        XCTAssertTrue(log.contains("functions/broken/function.yaml"), log)

        // Removed: its stages have no function any more, which the planner says when the next commit is planned.
        try FileManager.default.removeItem(atPath: server.root + "/functions/hello")
        try git.write("app/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  name: greeter\n  pipeline:\n    stages: [{name: HELLO}]\n")
        _ = try git.commitAndPush("uses a function that was removed")
        let error = try await eventually("the removed function's stage to be the app's config error", timeout: 30) {
            try await server.applications().first { $0.name == "greeter" }?.configError
        }
        XCTAssertTrue(error.contains("no function runs stage HELLO"), error)
        XCTAssertEqual(helloRuns().count, 3)
        server.stop()
    }
}
