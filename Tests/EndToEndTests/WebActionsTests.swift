import Foundation
import GantrySupport
import XCTest

/// The web UI's pages and actions against a real server: the invalid-config error with its line, deliveries per
/// binding, Sync, Skip of a suspended WAIT, and Cancel without rollback.
final class WebActionsTests: XCTestCase {
    func testPagesAndActions() async throws {
        let (git, server, _) = try await launchServer(extraYAML: usersYAML([("erin", "erin-password", "editor")]))
        try git.write("slow/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              name: slow
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: echo started, onRollback: echo undone}
                  - name: WAIT
                    with: {duration: 1h}
                  - name: SCRIPT_RUN
                    with: {run: echo finished}
            """)
        try git.write("bad/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: bad
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: echo fine
            """)
        let (commit, _) = try git.commitAndPush("a slow app and a broken one")
        let first = try await server.deploymentID(commit: commit)
        try await waitForSuspendedWait(server, first)

        let browser = try WebClient(base: server.url)
        try browser.login("erin", "erin-password")
        let apps = try browser.get("/applications")
        XCTAssertTrue(apps.body.contains("INVALID_CONFIG"), apps.body)
        XCTAssertTrue(apps.body.contains("line "), "the config error shows its line")
        XCTAssertTrue(apps.body.contains("DEPLOYING"))
        let deliveries = try browser.get("/deliveries")
        XCTAssertTrue(deliveries.body.contains("accepted"), deliveries.body)

        // Skip the hour-long WAIT from the page: the pipeline goes on at once and ends in SUCCESS.
        let page = try browser.get("/deployments/\(first)")
        XCTAssertTrue(page.body.contains("id=\"skip-1\""), "a suspended WAIT offers Skip")
        XCTAssertFalse(page.body.contains("id=\"skip-0\""), "a finished SCRIPT_RUN does not")
        let csrf = try XCTUnwrap(WebClient.csrf(in: page.body))
        XCTAssertEqual(try browser.post("/deployments/\(first)/stages/1/skip", ["_csrf": csrf]).status, 303)
        let skipped = try await server.waitForDeployment(first, timeout: 30)
        XCTAssertEqual(skipped.status, "SUCCESS")
        XCTAssertEqual(stage(skipped, 1)?.status, "SKIPPED")
        XCTAssertEqual(stage(skipped, 1)?.message, "skipped by erin")
        XCTAssertEqual(try browser.post("/deployments/\(first)/stages/1/skip", ["_csrf": csrf]).status, 409, "only once")

        // Sync from the application page queues a deployment by the user.
        let appPage = try browser.get("/applications/slow")
        XCTAssertEqual(try browser.post("/applications/slow/sync", ["_csrf": try XCTUnwrap(WebClient.csrf(in: appPage.body)),
                                                                   "strategy": "pipeline"]).status, 303)
        let second = try await eventually("the synced deployment") {
            try await server.deployments().first { $0.id != first && $0.application == "slow" }?.id
        }
        try await waitForSuspendedWait(server, second)
        let synced = try await server.deployment(second)
        XCTAssertEqual(synced.trigger.kind, "manual")

        // Cancel without rollback: CANCELLED, the rollback stage skipped rather than run.
        XCTAssertEqual(try browser.post("/deployments/\(second)/cancel", ["_csrf": csrf, "rollback": "0"]).status, 303)
        let cancelled = try await server.waitForDeployment(second, timeout: 30)
        XCTAssertEqual(cancelled.status, "CANCELLED")
        let rollback = try XCTUnwrap(cancelled.stages.first(where: \.rollback))
        XCTAssertEqual(rollback.status, "SKIPPED")
        XCTAssertEqual(try browser.post("/deployments/\(second)/cancel", ["_csrf": csrf]).status, 409)
    }

    private func waitForSuspendedWait(_ server: ServerProcess, _ id: String) async throws {
        _ = try await eventually("WAIT of \(id.prefix(8)) to suspend") {
            stage(try await server.deployment(id), 1)?.status == "SUSPENDED" ? true : nil
        }
    }
}
