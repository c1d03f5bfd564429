import Foundation
import FunctionKit
import KubeSupport
import XCTest

/// Traffic routing by pod selector, prune, kustomize, patches and credentials, with the real kubectl against a
/// FAKE Kubernetes API server.
final class KubernetesRoutingAndInputAgainstFakeAPIServerTests: FakeAPIServerTestCase {
    let podSelectorConfig = """
        apiVersion: pipecd.dev/v1beta1
        kind: KubernetesApp
        spec:
          name: web-app
          service: {name: web}
          trafficRouting: {method: podselector}

        """

    func testPodSelectorSwitchesTheServiceAndRollbackRestoresIt() throws {
        try app.commit("c1", ["app.pipecd.yaml": podSelectorConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        try app.commit("c2", ["app.pipecd.yaml": podSelectorConfig, "web.yaml": seedManifests(version: "v0.2.0")])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)
        XCTAssertTrue(try app.run("K8S_CANARY_ROLLOUT", with: .object(["replicas": .string("100%")]), commit: "c2", running: "c1").succeeded)
        let toCanary = try app.run("K8S_TRAFFIC_ROUTING", with: .object(["all": .string("canary")]), commit: "c2", running: "c1")
        XCTAssertTrue(toCanary.succeeded, toCanary.log)
        XCTAssertEqual(try fake.object("services", "web")?["spec.selector"],
                       .object(["app": .string("web"), "pipecd.dev/variant": .string("canary")]))
        // The primary's rollout leaves the routed Service alone: the canary keeps the traffic meanwhile.
        let primary = try app.run("K8S_PRIMARY_ROLLOUT", commit: "c2", running: "c1")
        XCTAssertTrue(primary.log.contains("left to K8S_TRAFFIC_ROUTING: Service web"), primary.log)
        XCTAssertEqual(try fake.object("services", "web")?["spec.selector"]?["pipecd.dev/variant"]?.string, "canary")

        let split = try app.run("K8S_TRAFFIC_ROUTING", with: .object(["primary": .number(50), "canary": .number(50)]),
                                commit: "c2", running: "c1")
        XCTAssertEqual(split.result?.error?.type, "InvalidStageConfig")
        XCTAssertTrue(split.result?.message?.contains("podselector routing sends all traffic to one variant") == true)

        XCTAssertTrue(try app.run("ROLLBACK", commit: "c2", running: "c1").succeeded)
        XCTAssertEqual(try fake.object("services", "web")?["spec.selector"], .object(["app": .string("web")]),
                       "the Service of the running commit again")
        XCTAssertNil(try fake.object("deployments", "web-canary"))
    }

    func testPruneDeletesOnlyTheAppsObjectsTheManifestsNoLongerHave() throws {
        let config = seedAppConfig.replacingOccurrences(of: "  name: web-app\n", with: "  name: web-app\n  quickSync: {prune: true}\n")
        let extra = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: old-config}\ndata: {a: b}\n"
        try app.commit("c1", ["app.pipecd.yaml": config, "web.yaml": seedManifests(version: "v0.1.0", extra: extra)])
        try app.commit("c2", ["app.pipecd.yaml": config, "web.yaml": seedManifests(version: "v0.1.0")])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)
        // Someone else's ConfigMap in the same namespace, without Gantry's labels.
        let other = try KubeApp(name: "other-app", platform: app.platform)
        try other.commit("o1", ["app.pipecd.yaml": seedAppConfig.replacingOccurrences(of: "web-app", with: "other-app"),
                                "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-config}\ndata: {x: y}\n"])
        XCTAssertTrue(try other.run("K8S_SYNC", commit: "o1").succeeded)

        let pruned = try app.run("K8S_SYNC", commit: "c2", running: "c1")
        XCTAssertTrue(pruned.succeeded, pruned.log)
        XCTAssertTrue(pruned.log.contains("pruning ConfigMap default/old-config"), pruned.log)
        XCTAssertNil(try fake.object("configmaps", "old-config"))
        XCTAssertNotNil(try fake.object("configmaps", "other-config"), "another app's object is never pruned")
        XCTAssertNotNil(try fake.object("deployments", "web"))
    }

    func testKustomizationIsBuiltWithKubectlKustomize() throws {
        try app.commit("c1", [
            "app.pipecd.yaml": seedAppConfig,
            "kustomization.yaml": "resources: [web.yaml]\nnamePrefix: shop-\ncommonLabels: {team: shop}\n",
            "web.yaml": seedManifests(version: "v0.1.0"),
        ])
        let run = try app.run("K8S_SYNC", commit: "c1")
        XCTAssertTrue(run.succeeded, run.log)
        let web = try XCTUnwrap(try fake.object("deployments", "shop-web"))
        XCTAssertEqual(web.labels["team"], "shop")
        XCTAssertNil(try fake.object("deployments", "web"))
    }

    func testPatchesChangeTheCanaryOnlyIncludingInsideAnEmbeddedDocument() throws {
        let envoy = """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: envoy}
            data:
              envoy.yaml: |
                admin:
                  port: 9090
            """
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0", extra: envoy)])
        let patches: JSONValue = .array([
            .object(["target": .object(["kind": .string("ConfigMap"), "name": .string("envoy"), "documentRoot": .string("$.data['envoy.yaml']")]),
                     "ops": .array([.object(["op": .string("yaml-replace"), "path": .string("$.admin.port"), "value": .number(9095)])])]),
            .object(["target": .object(["kind": .string("Deployment"), "name": .string("web")]),
                     "ops": .array([.object(["op": .string("yaml-replace"), "path": .string("$.spec.template.spec.containers[0].image"),
                                             "value": .string("demo:debug")])])]),
        ])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)
        let run = try app.run("K8S_CANARY_ROLLOUT", with: .object(["patches": patches]), commit: "c1", running: "c1")
        XCTAssertTrue(run.succeeded, run.log)
        XCTAssertEqual(try fake.object("deployments", "web-canary")?["spec.template.spec.containers.0.image"]?.string, "demo:debug")
        XCTAssertEqual(try fake.object("configmaps", "envoy-canary")?["data"]?["envoy.yaml"]?.string, "admin:\n  port: 9095\n")
        XCTAssertEqual(try fake.object("configmaps", "envoy")?["data"]?["envoy.yaml"]?.string, "admin:\n  port: 9090")
        XCTAssertEqual(try fake.object("deployments", "web")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.1.0")
    }

    func testAWrongTokenFailsUnauthorizedAndAnUnknownContextNamesIt() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        let wrong = try KubeApp(platform: .object(["kind": .string("kubernetes"), "context": .string("bad"),
            "kubeconfig": .string(try fake.writeKubeconfig(context: "bad", token: "not-the-token"))]))
        try wrong.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        let denied = try wrong.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(denied.result?.error?.type, "Unauthorized", denied.result?.message ?? "")
        let noContext = try KubeApp(platform: .object(["kind": .string("kubernetes"), "context": .string("nowhere"),
            "kubeconfig": .string(try fake.writeKubeconfig(context: "somewhere"))]))
        try noContext.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        let missing = try noContext.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(missing.result?.status, .failed)
        XCTAssertTrue(missing.result?.message?.contains("nowhere") == true, missing.result?.message ?? "")
        XCTAssertEqual(try fake.history().count, 0)
    }
}
