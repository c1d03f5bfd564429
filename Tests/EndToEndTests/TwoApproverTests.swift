import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// WAIT_APPROVAL with `minApproverNum: 2` end to end, through the API: one approver approving twice still counts
/// once; a second person's approval lets the pipeline go on.
final class TwoApproverTests: XCTestCase {
    func testTwoDistinctApproversAreNeeded() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("gated/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              name: gated
              pipeline:
                stages:
                  - name: WAIT_APPROVAL
                    with: {minApproverNum: 2}
                  - name: SCRIPT_RUN
                    with: {run: echo approved twice}
            """)
        let (commit, _) = try git.commitAndPush("needs two approvals")
        let id = try await server.deploymentID(commit: commit)
        func approve(as token: String) async throws -> Int {
            try await server.request("POST", "/api/v1/deployments/\(id)/approve", body: Data("{}".utf8),
                                     headers: ["Authorization": "Bearer \(token)"]).status
        }
        /// Waits for the function's `runs`-th invocation to have ended (each approval resumes it once) and
        /// returns the stage as it left it.
        func afterRun(_ runs: Int) async throws -> StageView? {
            _ = try await eventually("invocation \(runs) of the approval stage to end") {
                let list = try await server.attempts(id, stage: 0)
                return list.count >= runs && list.allSatisfy({ $0.endedAt != nil }) ? true : nil
            }
            return stage(try await server.deployment(id), 0)
        }

        let first = try await afterRun(1)
        XCTAssertEqual(first?.message, "waiting for 2 more approvals (from: anyone)")
        var status = try await approve(as: server.token)
        XCTAssertEqual(status, 202)
        let second = try await afterRun(2)
        XCTAssertEqual(second?.message, "waiting for 1 more approval (from: anyone)")
        status = try await approve(as: server.token)
        XCTAssertEqual(status, 202, "approving again is accepted, and counts once")

        status = try await approve(as: server.outsiderToken)
        XCTAssertEqual(status, 202)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS")
        // Had the second approval by the same person counted, the stage would have been resumed for it (a fourth
        // run) or would have ended before the second person approved.
        let runs = try await server.attempts(id, stage: 0)
        XCTAssertEqual(runs.count, 3, "one run, one resume per distinct approver")
        XCTAssertEqual(done.stages.first { $0.index == 0 }?.status, "SUCCESS")
        XCTAssertTrue(done.stages.first { $0.index == 0 }?.message.contains("tester") ?? false, done.stages[0].message)
        XCTAssertTrue(done.stages.first { $0.index == 0 }?.message.contains("outsider") ?? false, done.stages[0].message)
    }
}
