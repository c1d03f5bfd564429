import Foundation
import FunctionKit
import GantrySupport
import KubeSupport
import XCTest

/// KubernetesApp deployments end to end: pushes to a bare repository (signed webhook from its hook), a real
/// `gantry serve`, the built-in kubernetes function running the real kubectl, and a FAKE Kubernetes API server
/// (one per test) whose objects and history of creations prove each step.
final class KubernetesPipelineAgainstFakeAPIServerTests: XCTestCase {
    var fake: FakeKubeAPIServer!

    override func setUpWithError() throws { fake = try FakeKubeAPIServer() }
    override func tearDown() { fake?.stop() }

    /// A server whose only kubernetes platform is the fake, an app `web` (`pipe` as its config) whose first push has
    /// been deployed by K8S_SYNC alone: the primary runs demo:v0.1.0 with 3 replicas.
    func firstPushDeployed(pipe: String = seedPipeYAML, manifests: String = seedManifests(version: "v0.1.0"))
        async throws -> (git: GitFixture, server: ServerProcess) {
        let (git, server, _) = try await launchServer(extraYAML: try fake.platformsYAML())
        try git.write("web/.pipe.yaml", pipe)
        try git.write("web/deployment.yaml", manifests)
        let first = try await server.waitForDeployment(try await server.deploymentID(commit: try git.commitAndPush("v0.1.0").commit))
        XCTAssertEqual(first.status, "SUCCESS", server.logText())
        XCTAssertEqual(first.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"], "first push: quick sync only")
        XCTAssertEqual(try image("web"), "demo:v0.1.0")
        return (git, server)
    }

    func image(_ deployment: String) throws -> String? {
        try fake.object("deployments", deployment)?["spec.template.spec.containers.0.image"]?.string
    }

    func testSeedScenarioCanaryOfTwoWaitPrimaryRolloutCanaryClean() async throws {
        let (git, server) = try await firstPushDeployed()
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        let id = try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)

        // While WAIT counts down: the canary runs v0.2.0 with 2 of the primary's 3 replicas; the primary is untouched.
        _ = try await eventually("WAIT to be suspended", timeout: 60) {
            stage(try await server.deployment(id), 1)?.status == "SUSPENDED" ? true : nil
        }
        let canary = try XCTUnwrap(try fake.object("deployments", "web-canary"), "the canary Deployment exists during WAIT")
        XCTAssertEqual(canary["spec.replicas"]?.number, 2)
        XCTAssertEqual(canary.labels["pipecd.dev/variant"], "canary")
        XCTAssertEqual(canary["spec.template.spec.containers.0.image"]?.string, "demo:v0.2.0")
        XCTAssertEqual(try image("web"), "demo:v0.1.0")
        XCTAssertEqual(try fake.object("deployments", "web")?["spec.replicas"]?.number, 3)

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(done.summary, "Sync progressively because of updating image demo from v0.1.0 to v0.2.0")
        XCTAssertEqual(done.stages.map { "\($0.name) \($0.status)" },
                       ["K8S_CANARY_ROLLOUT SUCCESS", "WAIT SUCCESS", "K8S_PRIMARY_ROLLOUT SUCCESS", "K8S_CANARY_CLEAN SUCCESS",
                        "ROLLBACK SKIPPED"])
        XCTAssertEqual(try image("web"), "demo:v0.2.0")
        XCTAssertNil(try fake.object("deployments", "web-canary"), "the canary is gone")
        // The order, from the fake's history: canary created, primary updated to v0.2.0, canary deleted.
        let steps = try fake.history().compactMap { h -> String? in
            guard h["kind"]?.string == "Deployment" else { return nil }
            return "\(h["verb"]?.string ?? "") \(h["name"]?.string ?? "") \(h["object"]?["spec"]?["template"]?["spec"]?["containers"]?.array?.first?["image"]?.string ?? "")"
        }
        XCTAssertEqual(steps, ["create web demo:v0.1.0", "create web-canary demo:v0.2.0", "update web demo:v0.2.0",
                               "delete web-canary demo:v0.2.0"])
        // kubectl's discovery and client version live in the function's $GANTRY_CACHE, kept between its invocations.
        let cache = server.dataDir + "/cache/kubernetes/kubectl"
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/client-version"), "the kubectl version was cached")
        XCTAssertFalse(try FileManager.default.subpathsOfDirectory(atPath: cache).filter { $0.contains("discovery") }.isEmpty,
                       "kubectl's discovery cache is in $GANTRY_CACHE")
        server.stop()
    }

    func testFailingStageAfterTheCanaryRollsBackToV010AndRemovesTheCanary() async throws {
        let (git, server) = try await firstPushDeployed(pipe: """
            apiVersion: pipecd.dev/v1beta1
            kind: KubernetesApp
            spec:
              pipeline:
                stages:
                  - name: K8S_CANARY_ROLLOUT
                    with: {replicas: 1}
                  - name: K8S_PRIMARY_ROLLOUT
                  - name: SCRIPT_RUN
                    with: {run: "echo 'error rate too high' >&2; exit 3"}
                  - name: K8S_CANARY_CLEAN

            """)
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        let id = try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        XCTAssertEqual(done.stages.map { "\($0.name) \($0.status)" },
                       ["K8S_CANARY_ROLLOUT SUCCESS", "K8S_PRIMARY_ROLLOUT SUCCESS", "SCRIPT_RUN FAILURE",
                        "K8S_CANARY_CLEAN CANCELLED", "ROLLBACK SUCCESS"])
        XCTAssertEqual(try image("web"), "demo:v0.1.0", "the primary is back on v0.1.0")
        XCTAssertNil(try fake.object("deployments", "web-canary"), "the canary is removed")
        let rollback = try XCTUnwrap(stage(done, 4))
        XCTAssertTrue(rollback.message.hasPrefix("restored commit "), "\(rollback)")
        server.stop()
    }

    func testKill9DuringTheCanaryAndDuringWaitCompletesWithExactlyOneCanaryCreated() async throws {
        let (git, server) = try await firstPushDeployed()
        // The canary's apply reaches the "cluster" and takes effect; its answer is held until the server is dead.
        try fake.hold("PATCH /apis/apps/v1/namespaces/default/deployments/web-canary")
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        let id = try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)
        _ = try await eventually("the canary's apply to reach the API server", timeout: 60) { fake.held > 0 ? true : nil }
        server.kill9()
        try fake.release()
        XCTAssertNotNil(try fake.object("deployments", "web-canary"), "the apply took effect before the crash")
        try await server.start()

        _ = try await eventually("WAIT to be suspended after the restart", timeout: 60) {
            stage(try await server.deployment(id), 1)?.status == "SUSPENDED" ? true : nil
        }
        server.kill9()
        try await server.start()

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(stage(done, 0)?.attempts, 2, "the canary stage was re-invoked after the first crash")
        XCTAssertEqual(try fake.creations(kind: "Deployment", name: "web-canary"), 1, "exactly one canary Deployment ever created")
        XCTAssertEqual(try image("web"), "demo:v0.2.0")
        XCTAssertNil(try fake.object("deployments", "web-canary"))
        server.stop()
    }

    /// The canary's apply takes effect, the server dies before hearing so, and the re-invoked canary is refused
    /// (RBAC changed meanwhile): ROLLBACK still removes the canary the lost attempt created, found by its labels.
    func testRollbackAfterACrashMidCanaryRemovesWhatTheLostAttemptCreated() async throws {
        let (git, server) = try await firstPushDeployed(pipe: """
            apiVersion: pipecd.dev/v1beta1
            kind: KubernetesApp
            spec:
              pipeline:
                stages:
                  - name: K8S_CANARY_ROLLOUT
                  - name: K8S_PRIMARY_ROLLOUT

            """)
        let canaryPatch = "PATCH /apis/apps/v1/namespaces/default/deployments/web-canary"
        try fake.hold(canaryPatch)
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        let id = try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)
        _ = try await eventually("the canary's apply to reach the API server", timeout: 60) { fake.held > 0 ? true : nil }
        server.kill9()
        try fake.release()
        try fake.fail(canaryPatch, message: #"deployments.apps "web-canary" is forbidden: User "gantry" cannot patch resource "deployments""#)
        try await server.start()

        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        let canary = try XCTUnwrap(stage(done, 0)), rollback = try XCTUnwrap(stage(done, 2))
        XCTAssertTrue(canary.message.contains(#"deployments.apps "web-canary" is forbidden"#), "\(canary)")
        XCTAssertEqual(rollback.status, "SUCCESS", "ROLLBACK: \(rollback)")
        XCTAssertNil(try fake.object("deployments", "web-canary"), "the canary of the lost attempt is gone")
        XCTAssertEqual(try fake.creations(kind: "Deployment", name: "web-canary"), 1)
        XCTAssertEqual(try image("web"), "demo:v0.1.0")
        server.stop()
    }

    func testReplicasOnlyChangeDeploysByQuickSync() async throws {
        let (git, server) = try await firstPushDeployed()
        try git.write("web/deployment.yaml", seedManifests(version: "v0.1.0", replicas: 5))
        let id = try await server.deploymentID(commit: try git.commitAndPush("scale to 5").commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(done.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"])
        XCTAssertEqual(done.summary, "Quick sync to scale Deployment/web from 3 to 5")
        XCTAssertEqual(try fake.object("deployments", "web")?["spec.replicas"]?.number, 5)
        XCTAssertEqual(try fake.creations(kind: "Deployment", name: "web-canary"), 0)
        server.stop()
    }

    func testIstioWeightsFollowTrafficRoutingStagesAndRollbackRestoresThem() async throws {
        let istio = """
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [web.example.com]
              http:
                - name: main
                  route:
                    - destination: {host: web}
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata: {name: web}
            spec:
              host: web
            """
        let (git, server) = try await firstPushDeployed(pipe: """
            apiVersion: pipecd.dev/v1beta1
            kind: KubernetesApp
            spec:
              trafficRouting:
                method: istio
                istio:
                  host: web
              pipeline:
                stages:
                  - name: K8S_CANARY_ROLLOUT
                  - name: K8S_TRAFFIC_ROUTING
                    with: {primary: 80, canary: 20}
                  - name: WAIT_APPROVAL
                  - name: K8S_TRAFFIC_ROUTING
                    with: {primary: 50, canary: 50}
                  - name: WAIT_APPROVAL
                  - name: SCRIPT_RUN
                    with: {run: "echo 'latency too high' >&2; exit 1"}
                  - name: K8S_TRAFFIC_ROUTING
                    with: {all: canary}

            """, manifests: seedManifests(version: "v0.1.0", extra: istio))
        func weights() throws -> [String] {
            let routes = try fake.object("virtualservices", "web")?["spec.http.0.route"]?.array ?? []
            return routes.map { "\($0["destination"]?["subset"]?.string ?? "-")=\($0["weight"]?.string ?? "-")" }
        }
        XCTAssertEqual(try weights(), ["-=-"], "after K8S_SYNC: the VirtualService as written")
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0", extra: istio))
        let id = try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)
        for (gate, expected) in [(2, ["primary=80", "canary=20"]), (4, ["primary=50", "canary=50"])] {
            _ = try await eventually("WAIT_APPROVAL \(gate) to wait", timeout: 60) {
                stage(try await server.deployment(id), gate)?.status == "SUSPENDED" ? true : nil
            }
            XCTAssertEqual(try weights(), expected)
            XCTAssertEqual(try fake.object("destinationrules", "web")?["spec.subsets"]?.array?.compactMap { $0["name"]?.string },
                           ["primary", "canary", "baseline"])
            let approved = try await server.request("POST", "/api/v1/deployments/\(id)/approve", body: Data("{}".utf8))
            XCTAssertEqual(approved.status, 202)
        }
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        let rollback = try XCTUnwrap(stage(done, 7))
        XCTAssertEqual(rollback.status, "SUCCESS", "ROLLBACK: \(rollback)")
        XCTAssertEqual(try weights(), ["-=-"], "rollback restores the VirtualService of the running commit")
        XCTAssertEqual(try image("web"), "demo:v0.1.0")
        XCTAssertNil(try fake.object("deployments", "web-canary"))
        server.stop()
    }
}
