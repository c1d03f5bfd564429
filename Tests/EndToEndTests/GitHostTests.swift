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

extension GitHostTests {
    /// A pull request: its head is fetched from `refs/pull/N/head`, previewed against main and the preview posted
    /// as one comment; a second push to the request edits that comment. Nothing is deployed from it.
    func testAPullRequestGetsOnePreviewCommentEditedOnTheNextPush() async throws {
        let host = try await FakeGitHost(token: "ghs-preview-token")
        defer { host.stop() }
        let (git, server, _) = try await launchServer(extraYAML: Self.fastOutbox, repositoryYAML: try Self.hostYAML(host))
        defer { server.stop() }
        try git.write("web/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  name: web\n")
        let main = try git.commitAndPush("web on main").commit
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: main))
        let signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo")

        let first = try git.pushPullRequest(7, "web gets a pipeline", files: ["web/app.gantry.yaml": Self.approvalApp
            .replacingOccurrences(of: "name: shipped", with: "name: web")])
        let opened = try await signer.send(signer.pullRequest(number: 7, action: "opened", head: first))
        XCTAssertEqual(opened.status, 202, opened.text)
        let comment = try await eventually("the preview comment", timeout: 30) {
            host.comments("github", "example/deploy", 7).first
        }
        XCTAssertTrue(comment.body.contains("Gantry plan preview of \(first.prefix(7))"), comment.body)
        XCTAssertTrue(comment.body.contains("- **web** (") && comment.body.contains("pipeline") &&
                      comment.body.contains("WAIT_APPROVAL"), comment.body)

        let second = try git.pushPullRequest(7, "and a second app", files: [
            "api/app.gantry.yaml": "apiVersion: gantry.dev/v1\nspec:\n  name: api\n"])
        let synchronized = try await signer.send(signer.pullRequest(number: 7, action: "synchronize", head: second))
        XCTAssertEqual(synchronized.status, 202, synchronized.text)
        let edited = try await eventually("the comment to show the second push", timeout: 30) {
            host.comments("github", "example/deploy", 7).first { $0.body.contains(String(second.prefix(7))) }
        }
        XCTAssertEqual(edited.id, comment.id, "edited in place")
        XCTAssertEqual(host.comments("github", "example/deploy", 7).count, 1)
        XCTAssertTrue(edited.body.contains("- **api** (") && edited.body.contains("quick sync"), edited.body)
        XCTAssertTrue(edited.body.contains("- **web** ("), "still compared from main: \(edited.body)")
        XCTAssertTrue(host.calls.contains { $0.method == "PATCH" && $0.path.contains("/issues/comments/") })
        XCTAssertTrue(host.calls.allSatisfy(\.authorized))
        let deployed = try await server.deployments().map(\.commit)
        XCTAssertFalse(deployed.contains(first) || deployed.contains(second), "a preview deploys nothing")
    }
}
