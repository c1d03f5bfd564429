import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// A failed result with `retryable: true` (or `error.retryable`) is re-invoked with growing backoff up to the
/// stage's `retry.maxAttempts`; a type listed in `nonRetryable` is never retried.
final class RetryTests: XCTestCase {
    func testRetryPolicyDecidesWithBackoffAndNonRetryableTypes() async throws {
        let functions: (String) throws -> String = { root in
            try writeScriptFunctions(in: root, [
                // Fails (retryably) on attempts 1 and 2, succeeds from attempt 3 on.
                ("flaky", "stages: [FLAKY]", """
                    cat > /dev/null
                    echo "attempt $GANTRY_ATTEMPT" >&2
                    if [ "$GANTRY_ATTEMPT" -lt 3 ]; then
                      echo '{"result": {"status": "failed", "message": "flaky backend", "retryable": true}}'
                    fi
                    """),
                // Says it could be retried, but its type is one the stage refuses to retry.
                ("broken", "stages: [BROKEN]", """
                    cat > /dev/null
                    echo '{"result": {"status": "failed", "error": {"type": "InvalidManifest", "message": "bad yaml", "retryable": true}}}'
                    """),
            ])
        }
        let (git, server, _) = try await launchServer(functionsDir: functions)
        let apps: [(String, String, String)] = [
            ("patient", "FLAKY", "{maxAttempts: 3, initialInterval: 200ms, backoffCoefficient: 2, maxInterval: 5s}"),
            ("impatient", "FLAKY", "{maxAttempts: 2, initialInterval: 100ms}"),
            ("strict", "BROKEN", "{maxAttempts: 3, initialInterval: 100ms, nonRetryable: [InvalidManifest]}"),
        ]
        for (name, stageName, retry) in apps {
            try git.write("\(name)/app.gantry.yaml", """
                apiVersion: gantry.dev/v1
                spec:
                  name: \(name)
                  pipeline:
                    stages:
                      - name: \(stageName)
                        retry: \(retry)
                """)
        }
        try git.commitAndPush("flaky stages")
        let results = try await eventually("all deployments to finish") { () -> [String: DeploymentView]? in
            let done = try await server.deployments().filter { ["SUCCESS", "FAILURE"].contains($0.status) }
            guard done.count == apps.count else { return nil }
            return Dictionary(uniqueKeysWithValues: done.map { ($0.application, $0) })
        }
        let patient = try XCTUnwrap(results["patient"])
        XCTAssertEqual(patient.status, "SUCCESS", server.logText())
        XCTAssertEqual(stage(patient, 0)?.attempts, 3)
        // Backoff grows: 200 ms before attempt 2, 400 ms before attempt 3.
        let attempts = try await server.attempts(patient.id, stage: 0)
        XCTAssertEqual(attempts.map(\.attempt), [1, 2, 3])
        let starts = attempts.compactMap { parse($0.startedAt) }, ends = attempts.compactMap { parse($0.endedAt) }
        XCTAssertEqual(starts.count, 3)
        if starts.count == 3, ends.count == 3 {
            let firstGap = starts[1].timeIntervalSince(ends[0]), secondGap = starts[2].timeIntervalSince(ends[1])
            XCTAssertGreaterThanOrEqual(firstGap, 0.15)
            XCTAssertGreaterThanOrEqual(secondGap, 0.3)
            XCTAssertGreaterThan(secondGap, firstGap)
        }
        let impatient = try XCTUnwrap(results["impatient"])
        XCTAssertEqual(impatient.status, "FAILURE")
        XCTAssertEqual(stage(impatient, 0)?.attempts, 2)
        XCTAssertTrue((stage(impatient, 0)?.message ?? "").contains("flaky backend"))
        let strict = try XCTUnwrap(results["strict"])
        XCTAssertEqual(strict.status, "FAILURE")
        XCTAssertEqual(stage(strict, 0)?.attempts, 1)
        XCTAssertEqual(stage(strict, 0)?.errorType, "InvalidManifest")
        server.stop()
    }
}
