import Foundation
import FunctionKit
import KubeSupport
import XCTest

/// The built `gantry-fn-kubernetes` driven with crafted events; the real kubectl talks to a FAKE Kubernetes API
/// server (one per test), whose stored objects and history of creations are what the assertions read.
final class KubernetesFunctionAgainstFakeAPIServerTests: FakeAPIServerTestCase {
    func deployment(_ name: String) throws -> FakeKubeAPIServer.Object? { try fake.object("deployments", name) }

    func testSyncAppliesThePrimaryWithGantryLabelsAndTheVariantInTheSelector() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        let run = try app.run("K8S_SYNC", commit: "c1")
        XCTAssertTrue(run.succeeded, run.log)
        XCTAssertEqual(run.result?.message, "applied Deployment web, Service web")
        let web = try XCTUnwrap(try deployment("web"), fake.log)
        XCTAssertEqual(web["spec.template.spec.containers.0.image"]?.string, "demo:v0.1.0")
        XCTAssertEqual(web["spec.replicas"]?.number, 3)
        XCTAssertEqual(web["spec.selector.matchLabels"], .object(["app": .string("web"), "pipecd.dev/variant": .string("primary")]))
        XCTAssertEqual(web.labels["gantry.dev/managed-by"], "gantry")
        XCTAssertEqual(web.labels["gantry.dev/application"], "web-app")
        XCTAssertEqual(web.labels["gantry.dev/commit-hash"], "c1")
        XCTAssertEqual(web["metadata.managedFields.0.manager"]?.string, "gantry", "server-side apply by the field manager gantry")
        XCTAssertEqual(try fake.object("services", "web")?["spec.selector"], .object(["app": .string("web")]),
                       "the Service keeps selecting every variant")
        XCTAssertEqual(run.lastCheckpoint?["applied"], .bool(true))
    }

    func testCanaryGetsSixtyPercentOfThreeRoundedUpItsOwnSelectorAndCleanRemovesOnlyIt() throws {
        let config = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: web-config}
            data: {greeting: hello}
            """
        let withConfig = seedManifests(version: "v0.1.0", extra: "---\n" + config)
            .replacingOccurrences(of: "ports: [{containerPort: 8080}]",
                                  with: "ports: [{containerPort: 8080}]\n          envFrom: [{configMapRef: {name: web-config}}]")
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": withConfig])
        try app.commit("c2", ["app.pipecd.yaml": seedAppConfig, "web.yaml": withConfig.replacingOccurrences(of: "v0.1.0", with: "v0.2.0")])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)

        let canary = try app.run("K8S_CANARY_ROLLOUT", with: .object(["replicas": .string("60%"), "createService": .bool(true)]),
                                 commit: "c2", running: "c1")
        XCTAssertTrue(canary.succeeded, canary.log)
        let c = try XCTUnwrap(try deployment("web-canary"))
        XCTAssertEqual(c["spec.replicas"]?.number, 2, "60% of 3, rounded up")
        XCTAssertEqual(c["spec.template.spec.containers.0.image"]?.string, "demo:v0.2.0")
        XCTAssertEqual(c.labels["pipecd.dev/variant"], "canary")
        XCTAssertEqual(c["spec.selector.matchLabels"]?["pipecd.dev/variant"]?.string, "canary")
        XCTAssertEqual(c["spec.template.spec.containers.0.envFrom.0.configMapRef.name"]?.string, "web-config-canary")
        XCTAssertNotNil(try fake.object("configmaps", "web-config-canary"))
        XCTAssertEqual(try fake.object("services", "web-canary")?["spec.selector"]?["pipecd.dev/variant"]?.string, "canary")
        XCTAssertEqual(try deployment("web")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.1.0", "primary untouched")
        XCTAssertEqual(canary.outputs["resources"], "ConfigMap/web-config-canary Deployment/web-canary Service/web-canary",
                       "what the stage created is its output, for the stages after it")

        let clean = try app.run("K8S_CANARY_CLEAN", commit: "c2", running: "c1")
        XCTAssertTrue(clean.succeeded, clean.log)
        XCTAssertNil(try deployment("web-canary"))
        XCTAssertNil(try fake.object("services", "web-canary"))
        XCTAssertNil(try fake.object("configmaps", "web-config-canary"))
        XCTAssertNotNil(try deployment("web"))
        XCTAssertNotNil(try fake.object("configmaps", "web-config"))
    }

    func testReinvokedCanaryCreatesNoSecondDeploymentAndSkipsWhatItsCheckpointSaysIsApplied() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        try app.commit("c2", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.2.0")])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)
        let first = try app.run("K8S_CANARY_ROLLOUT", with: .object(["replicas": .number(1)]), commit: "c2", running: "c1")
        XCTAssertTrue(first.succeeded, first.log)
        // Attempt 2 without the last checkpoint (lost in a crash): the same name is applied again, an update.
        let again = try app.run("K8S_CANARY_ROLLOUT", with: .object(["replicas": .number(1)]), commit: "c2", running: "c1", attempt: 2)
        XCTAssertTrue(again.succeeded, again.log)
        // Attempt 3 with the checkpoint: nothing is sent at all.
        let before = try fake.history().count
        let third = try app.run("K8S_CANARY_ROLLOUT", with: .object(["replicas": .number(1)]), commit: "c2", running: "c1",
                                checkpoint: first.lastCheckpoint, attempt: 3)
        XCTAssertTrue(third.succeeded, third.log)
        XCTAssertTrue(third.log.contains("already applied by an earlier attempt"), third.log)
        XCTAssertEqual(try fake.history().count, before)
        XCTAssertEqual(try fake.creations(kind: "Deployment", name: "web-canary"), 1)
    }

    func testRollbackRestoresTheRunningCommitAndDeletesCanaryAndBaseline() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        try app.commit("c2", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.2.0")])
        XCTAssertTrue(try app.run("K8S_SYNC", commit: "c1").succeeded)
        XCTAssertTrue(try app.run("K8S_CANARY_ROLLOUT", commit: "c2", running: "c1").succeeded)
        let baseline = try app.run("K8S_BASELINE_ROLLOUT", with: .object(["replicas": .string("34%")]), commit: "c2", running: "c1")
        XCTAssertTrue(baseline.succeeded, baseline.log)
        XCTAssertEqual(try deployment("web-baseline")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.1.0",
                       "the baseline runs the running commit")
        XCTAssertEqual(try deployment("web-baseline")?["spec.replicas"]?.number, 2, "34% of 3 rounded up")
        let baselineClean = try app.run("K8S_BASELINE_CLEAN", commit: "c2", running: "c1")
        XCTAssertTrue(baselineClean.succeeded, baselineClean.log)
        XCTAssertNil(try deployment("web-baseline"))
        XCTAssertNotNil(try deployment("web-canary"), "cleaning the baseline leaves the canary")
        XCTAssertTrue(try app.run("K8S_BASELINE_ROLLOUT", commit: "c2", running: "c1").succeeded)
        XCTAssertTrue(try app.run("K8S_PRIMARY_ROLLOUT", commit: "c2", running: "c1").succeeded)
        XCTAssertEqual(try deployment("web")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.2.0")

        let rollback = try app.run("ROLLBACK", commit: "c2", running: "c1")
        XCTAssertTrue(rollback.succeeded, rollback.log)
        XCTAssertEqual(rollback.result?.message, "restored commit c1: Deployment web, Service web")
        XCTAssertEqual(try deployment("web")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.1.0")
        XCTAssertEqual(try deployment("web")?.labels["gantry.dev/commit-hash"], "c1")
        XCTAssertNil(try deployment("web-canary"))
        XCTAssertNil(try deployment("web-baseline"))
    }

    func testForbiddenInvalidAndUnreachableFailuresNameTheResourceAndKubectlsWords() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        try fake.fail("PATCH .*/deployments/web$", message: #"deployments.apps "web" is forbidden: User "deployer" cannot patch resource "deployments""#)
        let forbidden = try app.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(forbidden.result?.status, .failed)
        XCTAssertEqual(forbidden.result?.error?.type, "Forbidden")
        XCTAssertTrue(forbidden.result?.message?.contains(#"syncing: Error from server (Forbidden)"#) == true, forbidden.result?.message ?? "")
        XCTAssertTrue(forbidden.result?.message?.contains(#"deployments.apps "web" is forbidden"#) == true, forbidden.result?.message ?? "")
        try fake.clearFaults()

        // The fake refuses a Deployment whose selector does not match its pod labels, as the real API does.
        try app.commit("bad", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")
            .replacingOccurrences(of: "labels: {app: web}\n    spec:\n      containers", with: "labels: {app: other}\n    spec:\n      containers")])
        let invalid = try app.run("K8S_SYNC", commit: "bad")
        XCTAssertEqual(invalid.result?.error?.type, "InvalidManifest", invalid.log)
        XCTAssertTrue(invalid.result?.message?.contains(#"The Deployment "web" is invalid: spec.template.metadata.labels"#) == true, invalid.result?.message ?? "")

        let unreachable = try KubeApp(platform: .object(["name": .string("gone"), "kind": .string("kubernetes"),
            "kubeconfig": .string(try fake.writeKubeconfig(context: "gone")),
            "context": .string("gone")]))
        fake.stop()
        try unreachable.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": seedManifests(version: "v0.1.0")])
        let down = try unreachable.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(down.result?.error?.type, "Unreachable", down.result?.message ?? "")
        XCTAssertEqual(down.result?.error?.retryable, true)
    }

    func testInvalidYAMLAndMissingConfigFailBeforeKubectlRuns() throws {
        try app.commit("c1", ["app.pipecd.yaml": seedAppConfig, "web.yaml": "apiVersion: v1\nkind: [unclosed\n"])
        let run = try app.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(run.result?.error?.type, "InvalidManifest")
        XCTAssertTrue(run.result?.message?.contains("web.yaml line") == true, run.result?.message ?? "")
        XCTAssertEqual(try fake.history().count, 0)
    }

    func testNamespaceFromTheInputIsCreatedWhenAskedAndRefusedWhenMissing() throws {
        let config = seedAppConfig.replacingOccurrences(of: "  name: web-app\n", with: "  name: web-app\n  input:\n    namespace: shop\n")
        try app.commit("c1", ["app.pipecd.yaml": config, "web.yaml": seedManifests(version: "v0.1.0")])
        let missing = try app.run("K8S_SYNC", commit: "c1")
        XCTAssertEqual(missing.result?.status, .failed)
        XCTAssertTrue(missing.result?.message?.contains(#"namespaces "shop" not found"#) == true, missing.result?.message ?? "")
        try app.commit("c2", ["app.pipecd.yaml": config.replacingOccurrences(of: "namespace: shop\n", with: "namespace: shop\n    autoCreateNamespace: true\n"),
                              "web.yaml": seedManifests(version: "v0.1.0")])
        let created = try app.run("K8S_SYNC", commit: "c2")
        XCTAssertTrue(created.succeeded, created.log)
        XCTAssertNotNil(try fake.object("namespaces", "shop", namespace: ""))
        XCTAssertNotNil(try fake.object("deployments", "web", namespace: "shop"))
    }
}
