import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// `gantry plan-preview` against a running server: a pull request's head is fetched by its ref, planned against the
/// branch, and printed, while the server deploys nothing for it.
final class PlanPreviewCLITests: XCTestCase {
    func testThePreviewOfAPullRequestIsPrintedAndNothingIsDeployed() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("jobs/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages: [{name: WAIT, with: {duration: 1s}}]\n")
        try git.write("other/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages: [{name: WAIT, with: {duration: 1s}}]\n")
        let first = try await server.waitForDeployment(try await server.deploymentID(commit: try git.commitAndPush("two apps").commit))
        XCTAssertEqual(first.status, "SUCCESS")
        let before = try await server.deployments().count

        try git.write("jobs/run.txt", "v2")
        _ = try sh(["git", "-C", git.work, "checkout", "-q", "-b", "change"])
        _ = try sh(["git", "-C", git.work, "add", "-A"])
        _ = try sh(["git", "-C", git.work, "commit", "-q", "-m", "change jobs"])
        _ = try sh(["git", "-C", git.work, "push", "-q", "origin", "HEAD:refs/pull/1/head"])

        let text = try server.cli(["plan-preview", "--repo", "demo", "--head", "refs/pull/1/head"])
        XCTAssertTrue(text.contains("- **jobs** (App): pipeline: Run the specified pipeline"), text)
        XCTAssertFalse(text.contains("**other**"), text)
        let json = try JSONDecoder().decode(PlanPreviewView.self, from: Data(try server.cli(
            ["plan-preview", "--repo", "demo", "--head", "refs/pull/1/head", "--json"]).utf8))
        XCTAssertEqual(json.applications.map(\.name), ["jobs"])
        XCTAssertEqual(json.applications.first?.stages, ["WAIT"])
        let after = try await server.deployments().count
        XCTAssertEqual(after, before, "a preview deploys nothing")
        XCTAssertThrowsError(try server.cli(["plan-preview", "--repo", "nope", "--head", "main"])) { error in
            XCTAssertTrue("\(error)".contains("no repository nope in the server config"), "\(error)")
        }
    }
}
