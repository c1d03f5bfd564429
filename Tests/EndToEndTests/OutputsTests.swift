import Foundation
import GantrySupport
import XCTest

/// `{"output": ...}` values are readable by later stages (and rollback stages, the same way): docs/function-protocol.md,
/// "output".
final class OutputsTests: XCTestCase {
    func testLaterStagesSeeEarlierOutputs() async throws {
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [
                ("produce", "stages: [PRODUCE]", #"cat > /dev/null; echo '{"output": {"url": "http://canary.example", "version": "7"}}'"#),
                ("consume", "stages: [CONSUME]", """
                    event=$(cat)
                    echo "seen: $(echo "$event" | grep -o '"url":"[^"]*"')" >&2
                    """),
            ])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: outputs
              pipeline:
                stages:
                  - name: PRODUCE
                  - name: CONSUME
            """)
        let commit = try git.commitAndPush("outputs flow").commit
        let done = try await server.waitForDeployment(try await server.deploymentID(commit: commit))
        XCTAssertEqual(done.status, "SUCCESS")
        let logs = stage(done, 1)?.logText ?? ""
        XCTAssertTrue(logs.contains(#"seen: "url":"http://canary.example""#), logs)
        server.stop()
    }
}
