import Foundation
import GantrySupport
import XCTest

final class CancelAndSupersedeTests: XCTestCase {
    /// Cancel kills the running function's whole process group and runs the rollback; `--no-rollback` does not.
    func testCancelStopsRunningStageAndRollsBack() async throws {
        let (git, server, marks) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: cancellable
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with:
                      run: "true"
                      onRollback: touch \(marks)/rolled-back
                  - name: SCRIPT_RUN
                    with:
                      run: sleep 1000 & echo $! > \(marks)/sleep-pid; wait
            """)
        let commit = try git.commitAndPush("long stage").commit
        let id = try await server.deploymentID(commit: commit)
        let pid = try await eventually("the long stage's child") {
            (try? String(contentsOfFile: marks + "/sleep-pid", encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        _ = try server.cli(["cancel", id])
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "CANCELLED", server.logText())
        XCTAssertEqual(stage(done, 1)?.status, "CANCELLED")
        XCTAssertTrue(FileManager.default.fileExists(atPath: marks + "/rolled-back"), "rollback did not run")
        _ = try await eventually("the cancelled stage's child to be gone", timeout: 10) {
            kill(pid, 0) == 0 && !isZombie(pid) ? nil : true
        }
        server.stop()
    }

    /// While one deployment of an app runs, newer pushes queue; only the newest queued one runs next.
    func testNewerPendingDeploymentSupersedesOlderPendingOnes() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: queued
              pipeline:
                stages:
                  - name: WAIT_APPROVAL
                    with: {approvers: [tester]}
            """)
        let first = try git.commitAndPush("one").commit
        let firstID = try await eventually("first deployment waiting for approval") {
            let d = try await server.deployments().first { $0.commit == first }
            return d.flatMap { stage($0, 0) }?.status == "SUSPENDED" ? d?.id : nil
        }
        try git.write("app/version", "2")
        let second = try git.commitAndPush("two").commit
        try git.write("app/version", "3")
        let third = try git.commitAndPush("three").commit
        _ = try await eventually("both newer deployments to be planned") {
            try await server.deployments().count == 3 ? true : nil
        }
        _ = try server.cli(["approve", firstID])
        let firstDone = try await server.waitForDeployment(firstID)
        XCTAssertEqual(firstDone.status, "SUCCESS")
        let all = try await server.deployments()
        let secondD = try XCTUnwrap(all.first { $0.commit == second })
        let thirdD = try XCTUnwrap(all.first { $0.commit == third })
        let secondDone = try await server.waitForDeployment(secondD.id)
        XCTAssertEqual(secondDone.status, "CANCELLED")
        XCTAssertTrue(secondDone.statusReason.contains("superseded"), "\(secondDone)")
        let thirdID = thirdD.id
        _ = try await eventually("the newest deployment to wait for approval") {
            stage(try await server.deployment(thirdID), 0)?.status == "SUSPENDED" ? true : nil
        }
        // The approvers list is enforced by the API too: someone not on it is refused and changes nothing.
        let outsider = try await server.request("POST", "/api/v1/deployments/\(thirdID)/approve", body: Data("{}".utf8),
                                                headers: ["Authorization": "Bearer \(server.outsiderToken)"], auth: false)
        XCTAssertEqual(outsider.status, 403, String(decoding: outsider.data, as: UTF8.self))
        let stillWaiting = try await server.deployment(thirdID)
        XCTAssertEqual(stage(stillWaiting, 0)?.status, "SUSPENDED")
        let approved = try await server.request("POST", "/api/v1/deployments/\(thirdID)/approve", body: Data("{}".utf8))
        XCTAssertEqual(approved.status, 202)
        let thirdDone = try await server.waitForDeployment(thirdID)
        XCTAssertEqual(thirdDone.status, "SUCCESS")
        server.stop()
    }
}
