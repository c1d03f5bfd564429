import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// function.yaml's declared needs, end to end: `secrets:`, `requires:` and `concurrency:`.
final class DeclaredNeedsTests: XCTestCase {
    func testSecretReachesTheFunctionAsAFileAndNeverAppearsInLogsOrAPI() async throws {
        let secret = "s3cr3t-\(UUID().uuidString.prefix(8))"
        setenv("GANTRY_TEST_SLACK_TOKEN", secret, 1)
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [("notify", "stages: [NOTIFY]\nsecrets: [slack-token]", """
                cat > /dev/null
                token=$(cat "$GANTRY_SECRETS/slack-token")
                echo "using token $token" >&2
                echo "base64 $(printf %s "$token" | base64)" >&2
                env | grep -c "$token" >&2 || true
                echo "{\\"result\\": {\\"status\\": \\"failed\\", \\"message\\": \\"rejected $token\\"}}"
                """)])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions, extraYAML: """
            secrets:
              - {name: slack-token, value: env:GANTRY_TEST_SLACK_TOKEN}
            """)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: notifier
              pipeline:
                stages:
                  - name: NOTIFY
            """)
        let commit = try git.commitAndPush("uses a secret").commit
        let done = try await server.waitForDeployment(try await server.deploymentID(commit: commit))
        let logs = stage(done, 0)?.logText ?? ""
        XCTAssertTrue(logs.contains("using token ***"), logs)
        XCTAssertTrue(logs.contains("base64 ***"), logs)
        XCTAssertTrue(logs.contains("\n0"), "the secret is in no environment variable: \(logs)")
        let everything = String(decoding: try await server.request("GET", "/api/v1/deployments/\(done.id)").data,
                                as: UTF8.self) + server.logText()
        let encoded = Data(secret.utf8).base64EncodedString()
        XCTAssertFalse(everything.contains(secret), "the secret leaked")
        XCTAssertFalse(everything.contains(encoded), "the secret's base64 leaked")
        server.stop()
    }

    func testMissingToolFailsTheDeploymentBeforeAnyStageRuns() async throws {
        let marks = try makeTempDir("marks")
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [("deploy", "stages: [DEPLOY]\nrequires: [gantry-no-such-tool-\(UUID().uuidString.prefix(4))]",
                                                 "cat > /dev/null; touch \(marks)/ran")])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: needs-tools
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "touch \(marks)/first-stage"}
                  - name: DEPLOY
            """)
        let commit = try git.commitAndPush("needs a tool").commit
        let done = try await server.waitForDeployment(try await server.deploymentID(commit: commit))
        XCTAssertEqual(done.status, "FAILURE")
        let first = try XCTUnwrap(stage(done, 0))
        XCTAssertTrue(first.message.contains("MissingTool"), "\(first)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marks + "/first-stage"), "a stage ran")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marks + "/ran"), "a stage ran")
        server.stop()
    }

    func testConcurrencyLimitPerFunctionHolds() async throws {
        let marks = try makeTempDir("marks")
        let (git, server, _) = try await launchServer(functionsDir: countingFunctions(marks: marks, limit: 2, hold: "sleep 0.4"))
        try writeBusyApps(git, (1...5).map { "busy-\($0)" })
        try git.commitAndPush("five apps at once")
        let finished = try await eventually("all five deployments to finish", timeout: 60) { () -> [DeploymentView]? in
            let all = try await server.deployments()
            return all.count == 5 && all.allSatisfy({ $0.status == "SUCCESS" }) ? all : nil
        }
        XCTAssertEqual(finished.count, 5)
        let seen = try String(contentsOfFile: marks + "/seen", encoding: .utf8).split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
        XCTAssertEqual(seen.count, 5)
        XCTAssertEqual(seen.max(), 2, "never 3 at once, and the limit was actually used: \(seen)")
        server.stop()
    }
}
