import Planner
import Store
import XCTest

/// Quick sync or pipeline, in PipeCD's order, through real pushes and manual syncs.
final class StrategyTests: XCTestCase {
    static func kubernetesApp(_ extra: String = "") -> String {
        """
        apiVersion: pipecd.dev/v1beta1
        kind: KubernetesApp
        spec:
          name: web
        \(extra)
          pipeline:
            stages:
              - name: K8S_CANARY_ROLLOUT
              - name: K8S_PRIMARY_ROLLOUT
        """
    }

    private let platforms = [PlatformConfig(name: "dev-cluster", kind: "kubernetes")]

    private func plan(_ store: InMemoryStore, _ planner: Planner, _ trigger: NewTrigger) async throws -> PlanOutcome {
        let id = try await store.addTrigger(trigger)
        _ = try await planner.planPending()
        return try await unwrapped(store.outcome(trigger: id))
    }

    func testManualSyncForcesPipelineOrQuickSyncAtTheHeadEvenWithoutChanges() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", Self.kubernetesApp())
        let head = try repo.commitAndPush("web")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: platforms)

        // First deployment, but the pipeline was asked for.
        let forcedPipeline = try await plan(store, planner, manualTrigger("web", strategy: .pipeline))
        let p = try unwrapped(forcedPipeline.deployments.first)
        XCTAssertEqual(p.deployment.strategy, .pipeline)
        XCTAssertEqual(p.deployment.triggerKind, .manual)
        XCTAssertEqual(p.deployment.commit, head)
        XCTAssertEqual(p.forwardStageNames, ["K8S_CANARY_ROLLOUT", "K8S_PRIMARY_ROLLOUT"])
        XCTAssertEqual(p.deployment.summary, "Sync with the specified pipeline (forced by a manual sync)")

        // Nothing changed since, and the app has run: a manual quick sync still deploys the head.
        await store.setRunningCommit("web", head)
        let forcedQuick = try await plan(store, planner, manualTrigger("web", strategy: .quickSync))
        let q = try unwrapped(forcedQuick.deployments.first)
        XCTAssertEqual(q.deployment.strategy, .quickSync)
        XCTAssertEqual(q.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"])
        XCTAssertEqual(q.deployment.runningCommit, head)

        // Auto on a manual sync: the rules decide (not the first deployment any more: pipeline).
        let auto = try await plan(store, planner, manualTrigger("web", strategy: .auto))
        XCTAssertEqual(auto.deployments.first?.deployment.strategy, .pipeline)

        let missing = try await plan(store, planner, manualTrigger("nope", strategy: .auto))
        XCTAssertTrue(missing.deployments.isEmpty)
        XCTAssertTrue(missing.note.contains("no application named nope"), missing.note)
    }

    func testForcedPipelineWithoutPipelineIsRefusedWithANote() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\n")
        try repo.commitAndPush("web")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: platforms)

        let outcome = try await plan(store, planner, manualTrigger("web", strategy: .pipeline))

        XCTAssertTrue(outcome.deployments.isEmpty)
        XCTAssertTrue(outcome.note.contains("cannot sync with a pipeline"), outcome.note)
    }

    func testCommitMatchersChooseTheStrategyBeforeTheFirstDeploymentRule() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", Self.kubernetesApp("""
              commitMatcher:
                quickSync: "^hotfix"
                pipeline: "\\\\[canary\\\\]"
            """))
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: platforms)

        // First deployment, but the message asks for the pipeline.
        let first = try repo.commitAndPush("start [canary]")
        let canary = try await plan(store, planner, pushTrigger(first))
        XCTAssertEqual(canary.deployments.first?.deployment.strategy, .pipeline)
        XCTAssertEqual(canary.deployments.first?.deployment.summary,
                       "Sync with the specified pipeline (commit message matched \"\\[canary\\]\")")
        await store.setRunningCommit("web", first)

        try repo.write("web/deployment.yaml", "v2")
        let hotfix = try repo.commitAndPush("hotfix [canary]: both match, quick sync is checked first")
        let quick = try await plan(store, planner, pushTrigger(hotfix))
        XCTAssertEqual(quick.deployments.first?.deployment.strategy, .quickSync)
        XCTAssertEqual(quick.deployments.first?.deployment.summary, "Quick sync (commit message matched \"^hotfix\")")

        try repo.write("web/deployment.yaml", "v3")
        let plain = try repo.commitAndPush("ordinary change")
        let normal = try await plan(store, planner, pushTrigger(plain))
        XCTAssertEqual(normal.deployments.first?.deployment.strategy, .pipeline)
        XCTAssertEqual(normal.deployments.first?.deployment.summary, "Sync with the specified pipeline")
    }

    func testAlwaysUsePipelineSkipsTheFirstDeploymentQuickSync() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", Self.kubernetesApp("""
              planner:
                alwaysUsePipeline: true
                autoRollback: false
              timeout: 30m
            """))
        let commit = try repo.commitAndPush("hotfix: would match nothing here")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: platforms)

        let outcome = try await plan(store, planner, pushTrigger(commit))

        let d = try unwrapped(outcome.deployments.first)
        XCTAssertEqual(d.deployment.strategy, .pipeline)
        XCTAssertTrue(d.deployment.summary.contains("alwaysUsePipeline"), d.deployment.summary)
        XCTAssertEqual(d.forwardStageNames, ["K8S_CANARY_ROLLOUT", "K8S_PRIMARY_ROLLOUT"])
        XCTAssertFalse(d.deployment.autoRollback)
        XCTAssertEqual(d.deployment.timeoutSeconds, 1800)
    }

    func testNoPipelineMeansQuickSync() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: KubernetesApp\n")
        let first = try repo.commitAndPush("web")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store, platforms: platforms)
        _ = try await plan(store, planner, pushTrigger(first))
        await store.setRunningCommit("web", first)

        try repo.write("web/deployment.yaml", "v2")
        let second = try repo.commitAndPush("v2")
        let outcome = try await plan(store, planner, pushTrigger(second))

        XCTAssertEqual(outcome.deployments.first?.deployment.strategy, .quickSync)
        XCTAssertEqual(outcome.deployments.first?.deployment.summary, "Quick sync because no pipeline was configured")
    }
}
