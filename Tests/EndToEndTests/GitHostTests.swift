import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// Gantry on a Git host's API, against a fake of it that checks the auth header: GitHub Deployments that follow
/// each deployment, and pull request previews as one comment edited in place.
final class GitHostTests: XCTestCase {
    static let approvalApp = """
        apiVersion: gantry.dev/v1
        spec:
          name: shipped
          labels: {env: staging}
          pipeline:
            stages:
              - name: WAIT_APPROVAL
        """

    static func hostYAML(_ host: FakeGitHost, provider: String = "github", path: String = "example/deploy",
                         extra: String = "") throws -> String {
        let root = try makeTempDir()
        try host.token.write(toFile: root + "/host-token", atomically: true, encoding: .utf8)
        return "status: {provider: \(provider), apiURL: \(host.url)\(provider == "github" ? "" : provider == "gitea" ? "/api/v1" : "/api/v4"), "
            + "token: file:\(root)/host-token, repository: \(path)\(extra)}"
    }

    static let fastOutbox = "outbox: {initialInterval: 50ms, maxInterval: 300ms, timeout: 2s}"

    /// A: approved and succeeds. B and C are pushed while A waits: B is superseded by C before it runs. Then C
    /// succeeds and A, the app's previous success, becomes inactive.
    func testGitHubDeploymentsFollowEachDeploymentAndGoInactiveWhenSuperseded() async throws {
        let host = try await FakeGitHost(token: "ghs-deploy-token")
        defer { host.stop() }
        let (git, server, _) = try await launchServer(extraYAML: Self.fastOutbox,
                                                      repositoryYAML: try Self.hostYAML(host, extra: ", deployments: true"))
        defer { server.stop() }
        try git.write("app/app.gantry.yaml", Self.approvalApp)
        let a = try git.commitAndPush("a").commit
        let idA = try await server.deploymentID(commit: a)
        _ = try await eventually("A to wait for approval") { stage(try await server.deployment(idA), 0)?.status == "SUSPENDED" ? true : nil }
        try git.write("app/b.txt", "b")
        let b = try git.commitAndPush("b").commit
        try git.write("app/c.txt", "c")
        let c = try git.commitAndPush("c").commit
        _ = try await server.deploymentID(commit: b)
        let idC = try await server.deploymentID(commit: c)
        let approvedA = try await server.request("POST", "/api/v1/deployments/\(idA)/approve")
        XCTAssertEqual(approvedA.status, 202)
        _ = try await eventually("C to wait for approval", timeout: 60) {
            stage(try await server.deployment(idC), 0)?.status == "SUSPENDED" ? true : nil
        }
        let approvedC = try await server.request("POST", "/api/v1/deployments/\(idC)/approve")
        XCTAssertEqual(approvedC.status, 202)
        _ = try await server.waitForDeployment(idC)

        func states(_ sha: String) -> [String]? { host.deployments.first { $0.sha == sha }?.states }
        _ = try await eventually("A to become inactive on GitHub", timeout: 30) {
            states(a)?.last == "inactive" && states(c)?.last == "success" && states(b)?.last == "inactive" ? true : nil
        }
        XCTAssertEqual(states(a), ["queued", "in_progress", "success", "inactive"])
        XCTAssertEqual(states(b), ["queued", "inactive"], "superseded before it ran")
        XCTAssertEqual(states(c), ["queued", "in_progress", "success"])
        XCTAssertEqual(host.deployments.count, 3, "one GitHub deployment per Gantry deployment")
        XCTAssertEqual(Set(host.deployments.map(\.environment)), ["staging"], "the app's env label")
        XCTAssertEqual(host.deployments.first { $0.sha == a }?.gantryDeployment, idA)
        XCTAssertTrue(host.calls.allSatisfy(\.authorized))
        XCTAssertEqual(host.statuses(c), ["pending", "pending", "success"], "commit statuses go on beside them")
    }
}

extension GitHostTests {
    /// A push that breaks an app's config deploys nothing and says so once: DEPLOYMENT_TRIGGER_FAILED turns the
    /// commit's `gantry/<app>` status red, linking to the app's page. A later push that leaves the same error
    /// in place says nothing more.
    func testABrokenConfigFailsTheCommitOnce() async throws {
        let host = try await FakeGitHost(token: "ghs-status-token")
        defer { host.stop() }
        let (git, server, _) = try await launchServer(extraYAML: Self.fastOutbox, repositoryYAML: try Self.hostYAML(host))
        defer { server.stop() }
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: fragile
            """)
        let good = try git.commitAndPush("good").commit
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: good))
        try git.write("app/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec: [unclosed\n")
        let broken = try git.commitAndPush("broken").commit
        _ = try await eventually("the broken commit's status") { host.statuses(broken).isEmpty ? nil : true }
        // The next push leaves the error and adds an app, whose deployment shows the push was planned.
        try git.write("app/notes.txt", "still broken")
        try git.write("witness/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  name: witness\n")
        let again = try git.commitAndPush("still broken").commit
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: again))
        XCTAssertEqual(host.statuses(broken), ["failure"])
        struct Status: Decodable { var target_url: String; var context: String; var description: String }
        func statuses(_ sha: String) -> [Status] {
            host.calls.filter { $0.path.hasSuffix("/statuses/\(sha)") }.compactMap {
                try? JSONDecoder().decode(Status.self, from: Data($0.body))
            }
        }
        let status = try XCTUnwrap(statuses(broken).first)
        XCTAssertEqual(status.context, "gantry/fragile")
        XCTAssertEqual(status.target_url, server.url + "/applications/fragile")
        XCTAssertTrue(status.description.hasPrefix("FAILURE: "), status.description)
        XCTAssertFalse(statuses(again).contains { $0.context == "gantry/fragile" }, "the same error again is not news")
        let outbox = try await server.get(OutboxList.self, "/api/v1/outbox")
        XCTAssertEqual(outbox.messages.filter { $0.event == "DEPLOYMENT_TRIGGER_FAILED" }.count, 1)
    }
}
