import BuiltProducts
import FunctionHost
import Foundation
import Planner
import Store
import XCTest

/// The planning invocation: the planner asks the kind's function whether a change needs the pipeline, after every
/// other rule of PipeCD's order, on real commits; the built `kubernetes` function compares the manifests.
final class PlanningInvocationTests: XCTestCase {
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
        let functions = try BuiltinFunctions.platformFunctions()
        let planner = try repo.planner(store: store, platforms: [PlatformConfig(name: "dev-cluster", kind: "kubernetes")],
                                       functions: functions)
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
        // The first deployment and the commit-matched push were decided before the function was asked.
        XCTAssertEqual(functions.planningInvocations, 4)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: repo.dataDir + "/invocations")) ?? []
        XCTAssertTrue(leftovers.allSatisfy { id in
            ((try? FileManager.default.contentsOfDirectory(atPath: repo.dataDir + "/invocations/" + id)) ?? []).isEmpty
        }, "planning invocations leave no working directory behind: \(leftovers)")
    }

    /// A function folder of the test's own that declares `ShellApp` and answers the planning invocation with `answer`
    /// (a result line), beside the built-in functions.
    private func shellFunctions(answer: String) throws -> (PlatformFunctions, cleanup: () -> Void) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("shell-fn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/shell", withIntermediateDirectories: true)
        try """
            name: shell
            stages: [SHELL_SYNC]
            platform: shell
            command: [sh, -c, 'cat > /dev/null; echo "$0"', '\(answer)']
            appKinds: [{kind: ShellApp, syncStage: SHELL_SYNC, determinesStrategy: true}]
            """.write(toFile: root + "/shell/function.yaml", atomically: true, encoding: .utf8)
        let catalog = FunctionCatalog(paths: [root], executableSearchPaths: [])
        XCTAssertEqual(catalog.registry.problems, [])
        let host = FunctionHost(supervisorPath: try BuiltProducts.executable("gantry-supervise"), registry: catalog.registry)
        return (PlatformFunctions(catalog: catalog, host: host), { try? FileManager.default.removeItem(atPath: root) })
    }

    static let shellApp = """
        apiVersion: pipecd.dev/v1beta1
        kind: ShellApp
        spec:
          pipeline:
            stages: [{name: SHELL_SYNC}]
        """

    func testAKindComesFromItsFunctionAndOnlyATouchedAppIsAsked() async throws {
        for (answer, strategy, summary) in [
            (#"{"output":{"strategy":"QUICK_SYNC","summary":"nothing that matters changed"}}"#, SyncStrategy.quickSync,
             "nothing that matters changed"),
            (#"{"result":{"status":"skipped"}}"#, .pipeline, "Sync with the specified pipeline"),
            (#"{"result":{"status":"failed","message":"cannot read the sources"}}"#, .pipeline,
             "Sync progressively because the shell function could not compare the commits (cannot read the sources)"),
            ("not json", .pipeline, "Sync progressively because the shell function gave no verdict"),
        ] {
            let (functions, cleanup) = try shellFunctions(answer: answer)
            defer { cleanup() }
            let repo = try GitFixture()
            try repo.write("a/app.pipecd.yaml", Self.shellApp)
            try repo.write("b/app.pipecd.yaml", Self.shellApp)
            let store = InMemoryStore()
            let planner = try repo.planner(store: store, platforms: [PlatformConfig(name: "sh", kind: "shell")],
                                           functions: functions)
            func push(_ file: String) async throws -> [Deployment] {
                try repo.write(file, UUID().uuidString)
                let commit = try repo.commitAndPush(file)
                let id = try await store.addTrigger(pushTrigger(commit))
                _ = try await planner.planPending()
                let deployments = try await unwrapped(store.outcome(trigger: id)).deployments.map(\.deployment)
                for d in deployments { await store.setRunningCommit(d.application, commit) }
                return deployments
            }
            let first = try await push("a/x")
            XCTAssertEqual(first.map(\.application).sorted(), ["a", "b"])
            XCTAssertEqual(functions.planningInvocations, 0, "a first deployment is a quick sync without asking")
            let second = try await push("a/x")
            XCTAssertEqual(second.map(\.application), ["a"])
            XCTAssertEqual(second.first?.strategy, strategy, answer)
            XCTAssertEqual(second.first?.summary, summary)
            XCTAssertEqual(functions.planningInvocations, 1, "only the touched app is asked")
        }
    }

    func testAKindNoFunctionDeclaresIsTheAppsConfigError() async throws {
        let repo = try GitFixture()
        try repo.write("ecs/app.pipecd.yaml", "apiVersion: pipecd.dev/v1beta1\nkind: ECSApp\n")
        let commit = try repo.commitAndPush("ecs")
        let store = InMemoryStore()
        let planner = try repo.planner(store: store)
        let id = try await store.addTrigger(pushTrigger(commit))
        _ = try await planner.planPending()
        let outcome = try await unwrapped(store.outcome(trigger: id))
        XCTAssertEqual(outcome.deployments.count, 0)
        XCTAssertEqual(outcome.applications.first?.configError, "ecs/app.pipecd.yaml line 2: kind ECSApp is not "
                       + "supported (expected Application or one of the functions' appKinds: KubernetesApp, LambdaApp)")
    }
}
