import Foundation
import GantrySupport
import KubeSupport
import XCTest

/// The safety net end to end: a push whose webhook is dropped on purpose is found by the `git ls-remote`
/// reconcile and deployed, and the catch is counted.
final class ReconcileTests: XCTestCase {
    func testDroppedWebhookIsCaughtByTheReconcileAndDeployed() async throws {
        let (git, server, _) = try await launchServer(repositoryYAML: "reconcile: 1s")
        try git.write("app/app.gantry.yaml", scriptRunApp(name: "safety-net"))
        let first = try git.commitAndPush("delivered by the hook")
        XCTAssertTrue(first.hookOutput.contains("answered 202"), first.hookOutput)
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: first.commit))

        // Drop the next push's webhook on purpose.
        try FileManager.default.removeItem(atPath: git.bare + "/hooks/post-receive")
        try git.write("app/file.txt", "changed without a webhook")
        let second = try git.commitAndPush("no webhook for this one")
        XCTAssertFalse(second.hookOutput.contains("answered"), second.hookOutput)

        let id = try await server.deploymentID(commit: second.commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(done.trigger.kind, "reconcile")

        let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        let catches = metrics.split(separator: "\n").first { $0.hasPrefix(#"gantry_reconcile_catches_total{repository="demo"}"#) }
        XCTAssertGreaterThanOrEqual(Double(catches?.split(separator: " ").last ?? "") ?? 0, 1, metrics)
        XCTAssertTrue(server.logText().contains("reconcile caught a push whose webhook never arrived"))
        // The deliveries show only the push that was delivered.
        let deliveries = try await server.deliveries()
        XCTAssertEqual(deliveries.map(\.verdict), ["accepted"])
        server.stop()
    }

    func testAForcePushBackWhoseWebhookWasLostIsDeployedByTheReconcile() async throws {
        let (git, server, _) = try await launchServer(repositoryYAML: "reconcile: 1s")
        try git.write("app/app.gantry.yaml", scriptRunApp(name: "safety-net", run: "cat version.txt"))
        try git.write("app/version.txt", "v1")
        let v1 = try git.commitAndPush("v1")
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: v1.commit))
        try git.write("app/version.txt", "v2")
        let v2 = try git.commitAndPush("v2")
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: v2.commit))

        // The force-push back to v1 reaches the server only through the reconcile.
        try FileManager.default.removeItem(atPath: git.bare + "/hooks/post-receive")
        _ = try sh(["git", "-C", git.work, "reset", "-q", "--hard", v1.commit])
        _ = try sh(["git", "-C", git.work, "push", "-q", "--force", "origin", "main"])

        let id = try await eventually("the reconcile's deployment of v1") {
            let all = try await server.deployments()
            return all.count == 3 && all.first?.commit == v1.commit ? all.first?.id : nil
        }
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(done.trigger.kind, "reconcile")
        let summary = done.summary
        XCTAssertTrue(summary.hasPrefix("Rollback by Git: head moved from \(v2.commit.prefix(7)) to \(v1.commit.prefix(7))."),
                      summary)
        // The reconcile found the head triggered now: no further deployment.
        try await assertStaysTrue("the reconcile does not deploy v1 again", for: 2.5) {
            try await server.deployments().count == 3
        }
        server.stop()
    }
}
