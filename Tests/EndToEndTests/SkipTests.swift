import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// Skipping a waiting stage from the API and from the CLI, as an editor: without a stage index the one stage that
/// can be skipped now is; a viewer is refused; a deployment with nothing to skip answers 409.
final class SkipTests: XCTestCase {
    func testAPIAndCLISkipTheWaitingStage() async throws {
        let (git, server, _) = try await launchServer(extraYAML: usersYAML([("vera", "vera-password", "viewer")]))
        try git.write("waits/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              name: waits
              pipeline:
                stages:
                  - name: WAIT
                    with: {duration: 1h}
                  - name: WAIT
                    with: {duration: 1h}
            """)
        let (commit, _) = try git.commitAndPush("two long waits")
        let id = try await server.deploymentID(commit: commit)
        func waitUntilSuspended(_ index: Int) async throws {
            _ = try await eventually("stage \(index) of \(id.prefix(8)) to suspend") {
                stage(try await server.deployment(id), index)?.status == "SUSPENDED" ? true : nil
            }
        }

        try await waitUntilSuspended(0)
        let refused = try await server.request("POST", "/api/v1/deployments/\(id)/skip", body: Data("{}".utf8), headers: [
            "Authorization": "Bearer \(try viewerToken(server))"])
        XCTAssertEqual(refused.status, 403, String(decoding: refused.data, as: UTF8.self))

        let api = try await server.request("POST", "/api/v1/deployments/\(id)/skip", body: Data("{}".utf8))
        XCTAssertEqual(api.status, 202, String(decoding: api.data, as: UTF8.self))
        XCTAssertEqual(try api.decode(Message.self).reason, "skipped by tester")

        try await waitUntilSuspended(1)
        XCTAssertEqual(try server.cli(["skip", id]).trimmingCharacters(in: .whitespacesAndNewlines), "skipped by tester")
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS")
        XCTAssertEqual(done.stages.filter { !$0.rollback }.map(\.status), ["SKIPPED", "SKIPPED"])

        let nothing = try await server.request("POST", "/api/v1/deployments/\(id)/skip", body: Data("{}".utf8))
        XCTAssertEqual(nothing.status, 409)
    }

    /// A UI token of the viewer, made through the web UI as the viewer would.
    private func viewerToken(_ server: ServerProcess) throws -> String {
        let browser = try WebClient(base: server.url)
        try browser.login("vera", "vera-password")
        let page = try browser.get("/tokens")
        let made = try browser.post("/tokens", ["_csrf": try XCTUnwrap(WebClient.csrf(in: page.body)), "name": "t",
                                                "role": "viewer"])
        let secret = made.body.components(separatedBy: "<pre id=\"new-token\">").dropFirst().first?
            .components(separatedBy: "</pre>").first
        return try XCTUnwrap(secret, made.body)
    }
}
