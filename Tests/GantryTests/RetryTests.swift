import Foundation
import XCTest

/// SPEC protocol v1: a failed result with `retryable: true` is re-invoked with backoff up to the stage's `retry`.
final class RetryTests: XCTestCase {
    func testRetryableFailureIsRetriedUpToMaxAttempts() async throws {
        let makeFunctions: (String) throws -> String = { root in
            let dir = root + "/functions/flaky"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "name: flaky\nstages: [FLAKY]\ncommand: [./run.sh]\n".write(toFile: dir + "/function.yaml",
                                                                            atomically: true, encoding: .utf8)
            // Fails (retryably) on attempts 1 and 2, succeeds from attempt 3 on.
            try """
            #!/bin/bash
            cat > /dev/null
            echo "attempt $GANTRY_ATTEMPT" >&2
            if [ "$GANTRY_ATTEMPT" -lt 3 ]; then
              echo '{"result": {"status": "failed", "message": "flaky backend", "retryable": true}}'
            fi
            """.write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/run.sh")
            return root + "/functions"
        }
        let (git, server, _) = try await launchServer(functionsDir: makeFunctions)
        for (name, attempts) in [("patient", 3), ("impatient", 2)] {
            try git.write("\(name)/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: \(name)
                  pipeline:
                    stages:
                      - name: FLAKY
                        retry: {maxAttempts: \(attempts), initialInterval: 100ms, maxInterval: 1s}
                """)
        }
        try git.commitAndPush("flaky stages")
        let results = try await eventually("both deployments to finish") { () -> [String: [String: Any]]? in
            let all = try await server.deployments()
            let done = all.filter { ["SUCCESS", "FAILURE"].contains($0["status"] as? String ?? "") }
            guard done.count == 2 else { return nil }
            return Dictionary(uniqueKeysWithValues: done.map { ($0["application"] as? String ?? "", $0) })
        }
        let patient = try XCTUnwrap(results["patient"])
        XCTAssertEqual(patient["status"] as? String, "SUCCESS", server.logText())
        XCTAssertEqual(stage(patient, 0)["attempts"] as? Int, 3)
        let impatient = try XCTUnwrap(results["impatient"])
        XCTAssertEqual(impatient["status"] as? String, "FAILURE")
        XCTAssertEqual(stage(impatient, 0)["attempts"] as? Int, 2)
        XCTAssertTrue((stage(impatient, 0)["message"] as? String ?? "").contains("flaky backend"))
        server.stop()
    }
}
