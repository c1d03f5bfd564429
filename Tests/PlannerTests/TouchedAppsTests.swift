import Planner
import Store
import XCTest

/// Which applications a push touched: their directory, `onCommit.paths`, `ignores`, `disabled`, and config
/// files that cannot be used.
final class TouchedAppsTests: XCTestCase {
    static func app(_ name: String, trigger: String = "") -> String {
        """
        apiVersion: gantry.dev/v1
        spec:
          name: \(name)
          pipeline:
            stages:
              - name: WAIT
                with:
                  duration: 1s
        \(trigger)
        """
    }

    /// Plans the push of everything written so far and returns the names of the deployed apps.
    private func push(_ repo: GitFixture, _ store: InMemoryStore, _ planner: Planner, _ message: String)
        async throws -> (commit: String, deployed: [String], outcome: PlanOutcome) {
        let commit = try repo.commitAndPush(message)
        let id = try await store.addTrigger(pushTrigger(commit))
        _ = try await planner.planPending()
        let outcome = try await unwrapped(store.outcome(trigger: id))
        return (commit, outcome.deployments.map(\.deployment.application).sorted(), outcome)
    }

    func testOnlyTheTouchedAppDeploysWithPathsAndIgnores() async throws {
        let repo = try GitFixture()
        try repo.write("apps/a/app.gantry.yaml", Self.app("a"))
        try repo.write("apps/b/app.gantry.yaml", Self.app("b", trigger: """
              trigger:
                onCommit:
                  paths: [shared/]
                  ignores: ["*.md", "apps/b/docs/**"]
            """))
        try repo.write("shared/lib.txt", "v1")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let first = try await push(repo, store, planner, "first")
        XCTAssertEqual(first.deployed, ["a", "b"], "new applications are always touched")

        try repo.write("apps/a/config.txt", "v2")
        let onlyA = try await push(repo, store, planner, "change a")
        XCTAssertEqual(onlyA.deployed, ["a"])
        let bAfterA = await store.apps["b"]
        XCTAssertEqual(bAfterA?.lastTriggeredCommit, first.commit, "an untouched app keeps its last triggered commit")

        try repo.write("apps/b/README.md", "docs")
        try repo.write("apps/b/docs/guide.txt", "more docs")
        let ignored = try await push(repo, store, planner, "docs of b")
        XCTAssertEqual(ignored.deployed, [])
        XCTAssertEqual(ignored.outcome.note, "no application touched by \(ignored.commit.prefix(7))")

        try repo.write("apps/b/README.md", "docs again")
        try repo.write("apps/b/values.txt", "real change")
        let notAllIgnored = try await push(repo, store, planner, "docs and a value of b")
        XCTAssertEqual(notAllIgnored.deployed, ["b"], "one relevant file outside ignores is enough")

        try repo.write("shared/lib.txt", "v2")
        let shared = try await push(repo, store, planner, "shared lib")
        XCTAssertEqual(shared.deployed, ["b"], "onCommit.paths makes files outside the app's directory relevant")

        try repo.write("elsewhere/notes.txt", "unrelated")
        let unrelated = try await push(repo, store, planner, "unrelated")
        XCTAssertEqual(unrelated.deployed, [])

        // Changes since an app's last triggered commit accumulate: a's diff still sees the earlier push.
        try repo.write("apps/a/config.txt", "v3")
        let later = try await push(repo, store, planner, "a again")
        XCTAssertEqual(later.deployed, ["a"])
    }

    func testOnCommitDisabledIgnoresPushesButNotAManualSync() async throws {
        let repo = try GitFixture()
        try repo.write("apps/a/app.gantry.yaml", Self.app("a", trigger: """
              trigger:
                onCommit:
                  disabled: true
            """))
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        let pushed = try await push(repo, store, planner, "first")
        XCTAssertEqual(pushed.deployed, [])

        let id = try await store.addTrigger(manualTrigger("a", strategy: .auto))
        _ = try await planner.planPending()
        let manual = await store.outcome(trigger: id)
        XCTAssertEqual(manual?.deployments.map(\.deployment.application), ["a"])
    }

    func testBrokenYAMLIsAConfigErrorWithItsLineAndTheOtherAppStillDeploys() async throws {
        let repo = try GitFixture()
        let broken = """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              pipeline:
                stages:
                  - name: WAIT
                    with:
                      duration: 1s: 2s
            """
        try repo.write("apps/a/app.pipecd.yaml", broken)
        try repo.write("apps/b/app.gantry.yaml", Self.app("b"))
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let first = try await push(repo, store, planner, "first")
        XCTAssertEqual(first.deployed, ["b"])
        let a = try await unwrapped(store.apps["a"])
        XCTAssertEqual(a.configError, "apps/a/app.pipecd.yaml line 8: mapping values are not allowed in this context")
        XCTAssertNil(a.lastTriggeredCommit)
        XCTAssertTrue(first.outcome.note.contains("line 8"), first.outcome.note)

        // A wrong type is an error too, on the line of the wrong value.
        try repo.write("apps/a/app.pipecd.yaml", """
            apiVersion: gantry.dev/v1
            kind: App
            spec:
              pipeline:
                stages: WAIT
            """)
        _ = try await push(repo, store, planner, "still broken")
        let typed = await store.apps["a"]?.configError
        XCTAssertEqual(typed, "apps/a/app.pipecd.yaml line 5: spec.pipeline.stages must be a list, not \"WAIT\"")

        // Fixed: the app deploys and its error is cleared.
        try repo.write("apps/a/app.pipecd.yaml", Self.app("a"))
        let fixed = try await push(repo, store, planner, "fixed")
        XCTAssertEqual(fixed.deployed, ["a"])
        let cleared = await store.apps["a"]
        XCTAssertNil(cleared?.configError)
    }

    func testBrokenConfigOfAKnownAppIsReportedOnThatApp() async throws {
        let repo = try GitFixture()
        try repo.write("svc/app.gantry.yaml", Self.app("web"))
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        _ = try await push(repo, store, planner, "web")

        try repo.write("svc/app.gantry.yaml", "apiVersion: gantry.dev/v1\nspec: [\n")
        let broken = try await push(repo, store, planner, "break web")

        XCTAssertEqual(broken.deployed, [])
        let names = await store.apps.keys.sorted()
        XCTAssertEqual(names, ["web"], "no new application named after the directory")
        let error = await store.apps["web"]?.configError ?? ""
        XCTAssertTrue(error.hasPrefix("svc/app.gantry.yaml line 3: "), error)
    }

    func testSecondAppWithTheSameNameIsReportedAndTheFirstDeploys() async throws {
        let repo = try GitFixture()
        try repo.write("one/app.gantry.yaml", Self.app("same"))
        try repo.write("two/app.gantry.yaml", Self.app("same"))
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let pushed = try await push(repo, store, planner, "twins")

        XCTAssertEqual(pushed.deployed, ["same"])
        XCTAssertEqual(pushed.outcome.deployments.first?.deployment.appPath, "one")
        XCTAssertTrue(pushed.outcome.note.contains(
            "two/app.gantry.yaml: duplicate application name same (also at one/app.gantry.yaml)"), pushed.outcome.note)
    }

    func testPipeCDFilesWithOtherKindsAreNotApplications() async throws {
        let repo = try GitFixture()
        try repo.write("ops/analysis.pipecd.yaml", """
            apiVersion: pipecd.dev/v1beta1
            kind: AnalysisTemplate
            spec: {}
            """)
        try repo.write("fn/hello.pipecd.yaml", """
            apiVersion: pipecd.dev/v1beta1
            kind: LambdaApp
            spec:
              name: hello
            """)
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: [PlatformConfig(name: "aws-main", kind: "lambda")])

        let pushed = try await push(repo, store, planner, "mixed")

        XCTAssertEqual(pushed.deployed, ["hello"])
        let d = try unwrapped(pushed.outcome.deployments.first)
        XCTAssertEqual(d.stages.map(\.name), ["LAMBDA_SYNC", "ROLLBACK"])
        XCTAssertEqual(d.deployment.platform, "aws-main")
        let names = await store.apps.keys.sorted()
        XCTAssertEqual(names, ["hello"])
    }

    func testUnknownPlatformNameIsAConfigError() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", """
            apiVersion: pipecd.dev/v1beta1
            kind: KubernetesApp
            spec:
              platform: prod-cluster
            """)
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: [PlatformConfig(name: "dev-cluster", kind: "kubernetes")])

        let pushed = try await push(repo, store, planner, "web")

        XCTAssertEqual(pushed.deployed, [])
        let error = await store.apps["web"]?.configError ?? ""
        XCTAssertTrue(error.contains("spec.platform prod-cluster is not a platform in the server config"), error)
    }

    func testGenericAppWithoutPipelineGetsAnEmptyDeployment() async throws {
        let repo = try GitFixture()
        try repo.write("static/app.gantry.yaml", "apiVersion: gantry.dev/v1\n")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)

        let pushed = try await push(repo, store, planner, "static")

        XCTAssertEqual(pushed.deployed, ["static"])
        let d = try unwrapped(pushed.outcome.deployments.first)
        XCTAssertEqual(d.stages, [])
        XCTAssertTrue(d.deployment.summary.contains("no pipeline"), d.deployment.summary)
    }
}
