import Planner
import Store
import XCTest

/// The Kubernetes platform diff rule inside the planner: real commits of manifests, the running commit's files
/// compared with the pushed ones after every other rule of PipeCD's order.
final class KubernetesDiffRuleTests: XCTestCase {
    static let app = """
        apiVersion: pipecd.dev/v1beta1
        kind: KubernetesApp
        spec:
          name: web
          pipeline:
            stages:
              - name: K8S_CANARY_ROLLOUT
              - name: K8S_PRIMARY_ROLLOUT
              - name: K8S_CANARY_CLEAN
          commitMatcher:
            pipeline: "\\\\[canary\\\\]"
        """

    static func manifests(image: String = "web:v1", replicas: Int = 3, greeting: String = "hello") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "\(image)"}]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web-config}
        data: {greeting: \(greeting)}
        """
    }

    func testPodTemplateAndConfigMapChangesRunThePipelineAndReplicasQuickSync() async throws {
        let repo = try GitFixture()
        try repo.write("web/app.pipecd.yaml", Self.app)
        try repo.write("web/k8s.yaml", Self.manifests())
        let store = InMemoryStore()
        let planner = repo.planner(store: store, platforms: [PlatformConfig(name: "dev-cluster", kind: "kubernetes")])
        func push(_ message: String, _ text: String) async throws -> Deployment {
            try repo.write("web/k8s.yaml", text)
            let commit = try repo.commitAndPush(message)
            let id = try await store.addTrigger(pushTrigger(commit, message: message))
            _ = try await planner.planPending()
            let outcome = try await unwrapped(store.outcome(trigger: id))
            let d = try unwrapped(outcome.deployments.first?.deployment)
            await store.setRunningCommit("web", commit)
            return d
        }
        let first = try await push("first", Self.manifests())
        XCTAssertEqual(first.summary, "Quick sync because this is the first deployment")

        let image = try await push("new image", Self.manifests(image: "web:v2"))
        XCTAssertEqual(image.strategy, .pipeline)
        XCTAssertEqual(image.summary, "Sync progressively because of updating image web from v1 to v2")

        let config = try await push("new greeting", Self.manifests(image: "web:v2", greeting: "hi"))
        XCTAssertEqual(config.strategy, .pipeline)
        XCTAssertEqual(config.summary, "Sync progressively because ConfigMap web-config was updated")

        let scale = try await push("scale", Self.manifests(image: "web:v2", replicas: 6, greeting: "hi"))
        XCTAssertEqual(scale.strategy, .quickSync)
        XCTAssertEqual(scale.summary, "Quick sync to scale Deployment/web from 3 to 6")

        // The commit matcher comes before the diff rule in PipeCD's order.
        let matched = try await push("scale again [canary]", Self.manifests(image: "web:v2", replicas: 2, greeting: "hi"))
        XCTAssertEqual(matched.strategy, .pipeline)
        XCTAssertTrue(matched.summary.contains("commit message matched"), matched.summary)

        let broken = try await push("broken", "apiVersion: apps/v1\nkind: [oops\n")
        XCTAssertEqual(broken.strategy, .pipeline)
        XCTAssertTrue(broken.summary.hasPrefix("Sync progressively because the manifests could not be compared (k8s.yaml line"),
                      broken.summary)
    }
}
