import Foundation
import Planner
import Store
import XCTest

/// A pull request's plan preview: which apps its changes touch, quick sync or pipeline and why (the kubernetes
/// function answering the planning invocation), config errors with their line, and nothing committed to the store.
final class PlanPreviewTests: XCTestCase {
    func testAPullRequestIsPlannedAgainstItsBaseWithoutDeploying() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", PlanningInvocationTests.app)
        try repo.write("web/k8s.yaml", PlanningInvocationTests.manifests())
        try repo.write("jobs/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline:\n    stages: [{name: WAIT}]\n")
        try repo.commitAndPush("main")
        try repo.git(["checkout", "--quiet", "-b", "feature"])
        try repo.write("web/k8s.yaml", PlanningInvocationTests.manifests(image: "web:v2"))
        try repo.write("broken/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec:\n  pipeline: [oops\n")
        try repo.git(["add", "-A"])
        try repo.git(["commit", "--quiet", "-m", "new image"])
        try repo.git(["push", "--quiet", "origin", "HEAD:refs/pull/7/head"])
        // The base branch moves on meanwhile: only the pull request's own changes count.
        try repo.git(["checkout", "--quiet", "main"])
        try repo.write("jobs/more.txt", "x")
        let main = try repo.commitAndPush("main moves on")

        let store = InMemoryStore()
        let functions = try BuiltinFunctions.platformFunctions()
        let planner = try repo.planner(store: store, platforms: [PlatformConfig(name: "dev-cluster", kind: "kubernetes")],
                                       functions: functions)
        let preview = try await planner.preview(repository: "demo", head: "refs/pull/7/head", base: nil)

        XCTAssertEqual(preview.base, main)
        XCTAssertEqual(preview.applications.map(\.name).sorted(), ["broken", "web"])
        let web = try XCTUnwrap(preview.applications.first { $0.name == "web" })
        let broken = try XCTUnwrap(preview.applications.first { $0.name == "broken" })
        XCTAssertEqual(web.strategy, "pipeline")
        XCTAssertEqual(web.summary, "Sync progressively because of updating image web from v1 to v2")
        XCTAssertEqual(web.stages, ["K8S_CANARY_ROLLOUT", "K8S_PRIMARY_ROLLOUT", "K8S_CANARY_CLEAN"])
        XCTAssertNil(web.configError)
        XCTAssertEqual(broken.configError?.hasPrefix("broken/app.gantry.yaml line "), true, broken.configError ?? "")
        XCTAssertNil(broken.strategy)
        XCTAssertEqual(functions.planningInvocations, 1)
        let committed = await store.outcomes.count
        XCTAssertEqual(committed, 0, "a preview commits nothing")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: repo.dataDir + "/previews")) ?? [], [],
                       "the scratch sources are gone")

        do {
            _ = try await planner.preview(repository: "demo", head: "--upload-pack=touch /tmp/x", base: nil)
            XCTFail("an option is not a ref")
        } catch let refused as PreviewRefused {
            XCTAssertEqual(refused.description, "--upload-pack=touch /tmp/x is not a ref name or commit id")
        }
    }
}
