import Foundation
import XCTest

/// The safety net end to end: a push whose webhook is dropped on purpose is found by the `git ls-remote`
/// reconcile and deployed, and the catch is counted.
final class ReconcileTests: XCTestCase {
    func testDroppedWebhookIsCaughtByTheReconcileAndDeployed() async throws {
        let (git, server, _) = try await launchServer(repositoryYAML: "reconcile: 1s")
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: safety-net
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "true"}
            """)
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
        XCTAssertEqual(done["status"] as? String, "SUCCESS", server.logText())
        XCTAssertEqual((done["trigger"] as? [String: Any])?["kind"] as? String, "reconcile")

        let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        let catches = metrics.split(separator: "\n").first { $0.hasPrefix(#"gantry_reconcile_catches_total{repository="demo"}"#) }
        XCTAssertGreaterThanOrEqual(Double(catches?.split(separator: " ").last ?? "") ?? 0, 1, metrics)
        XCTAssertTrue(server.logText().contains("reconcile caught a push whose webhook never arrived"))
        // The deliveries show only the push that was delivered.
        let deliveries = try await server.request("GET", "/api/v1/bindings/demo/deliveries").json["deliveries"] as? [[String: Any]]
        XCTAssertEqual(deliveries?.map { $0["verdict"] as? String }, ["accepted"])
        server.stop()
    }
}
