import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// ANALYSIS with an HTTP check, end to end through a real server: a generic App whose only stage probes an
/// application that answers 200 twice and then 500. With failureLimit 1 the stage fails on the second failure,
/// the fourth round, and sends no request after it.
final class HTTPAnalysisTests: XCTestCase {
    func testAnAppThatStartsFailingFailsTheStageAtFailureLimitPlusOneFailures() async throws {
        let target = try await MetricsTarget(healthy: 2)
        defer { target.stop() }
        let (git, server, _) = try await launchServer()
        try git.write("apps/probe/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              name: probe
              pipeline:
                stages:
                  - name: ANALYSIS
                    with:
                      duration: 30s
                      http:
                        - url: http://\(target.address)/health
                          expectedCode: 200
                          expectedResponse: ok
                          interval: 1s
                          failureLimit: 1
            """)
        let id = try await server.deploymentID(commit: try git.commitAndPush("probe").commit)
        let done = try await server.waitForDeployment(id, timeout: 60)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        let analysis = try XCTUnwrap(stage(done, 0))
        XCTAssertEqual(analysis.status, "FAILURE")
        XCTAssertEqual(analysis.errorType, "AnalysisFailed")
        XCTAssertTrue(analysis.message.contains("http[0] failed 2 of 4 rounds, more than its failureLimit 1"),
                      "\(analysis)")
        let logs = stageLog(done, 0)
        XCTAssertEqual(analysisRounds(logs, "http[0]"), [1, 2, 3, 4], logs)
        XCTAssertTrue(logs.contains("round 2/30 http[0]: ok: GET http://\(target.address)/health answered 200"), logs)
        XCTAssertTrue(logs.contains("round 3/30 http[0]: FAILED: GET http://\(target.address)/health answered 500, expected 200 (failures 1, limit 1)"), logs)
        let requests = try await target.healthRequests()
        XCTAssertEqual(requests, 4, "one request per round, none after the stage failed")
        server.stop()
    }
}
