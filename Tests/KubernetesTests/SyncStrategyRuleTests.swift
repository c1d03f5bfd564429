import FunctionKit
import KubernetesPlatform
import KubeSupport
import XCTest

/// PipeCD's platform diff rule on manifests: what needs the pipeline and what a quick sync can apply.
final class SyncStrategyRuleTests: XCTestCase {
    func manifests(_ text: String) throws -> [Manifest] { try ManifestLoader.parse(text, file: "test.yaml") }

    func verdict(_ old: String, _ new: String, spec: KubernetesAppSpec = KubernetesAppSpec()) throws -> StrategyVerdict {
        SyncStrategyRule.decide(running: try manifests(old), target: try manifests(new), spec: spec)
    }

    let config = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {greeting: hello}\n"
    let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: web-secret}\nstringData: {token: abc}\n"

    func testImageChangeRunsThePipelineAndTheSummaryNamesIt() throws {
        let v = try verdict(seedManifests(version: "v0.1.0"), seedManifests(version: "v0.2.0"))
        XCTAssertEqual(v, .init(pipeline: true, summary: "Sync progressively because of updating image demo from v0.1.0 to v0.2.0"))
    }

    func testOtherPodTemplateChangesRunThePipeline() throws {
        let changed = seedManifests(version: "v0.1.0").replacingOccurrences(of: "containerPort: 8080", with: "containerPort: 9090")
        XCTAssertEqual(try verdict(seedManifests(version: "v0.1.0"), changed),
                       .init(pipeline: true, summary: "Sync progressively because pod template of workload web was changed"))
    }

    func testConfigMapOrSecretChangesRunThePipeline() throws {
        let base = seedManifests(version: "v0.1.0", extra: config + secret)
        XCTAssertEqual(try verdict(base, base.replacingOccurrences(of: "greeting: hello", with: "greeting: hi")),
                       .init(pipeline: true, summary: "Sync progressively because ConfigMap web-config was updated"))
        XCTAssertEqual(try verdict(base, base.replacingOccurrences(of: "token: abc", with: "token: xyz")),
                       .init(pipeline: true, summary: "Sync progressively because Secret web-secret was updated"))
        XCTAssertEqual(try verdict(base, seedManifests(version: "v0.1.0", extra: config)),
                       .init(pipeline: true, summary: "Sync progressively because 1 configmap/secret deleted"))
        XCTAssertEqual(try verdict(seedManifests(version: "v0.1.0", extra: config), base),
                       .init(pipeline: true, summary: "Sync progressively because new 1 configmap/secret added"))
    }

    func testReplicasOnlyOrOtherObjectsAreAQuickSync() throws {
        XCTAssertEqual(try verdict(seedManifests(version: "v0.1.0"), seedManifests(version: "v0.1.0", replicas: 5)),
                       .init(pipeline: false, summary: "Quick sync to scale Deployment/web from 3 to 5"))
        let servicePort = seedManifests(version: "v0.1.0").replacingOccurrences(of: "port: 80,", with: "port: 8000,")
        XCTAssertEqual(try verdict(seedManifests(version: "v0.1.0"), servicePort),
                       .init(pipeline: false, summary: "Quick sync by applying all manifests"))
    }

    func testNoRunningWorkloadIsAQuickSync() throws {
        let onlyService = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"
        XCTAssertFalse(try verdict(onlyService, seedManifests(version: "v0.2.0")).pipeline)
    }

    func testImageNamesWithRegistryPortsAndDigestsSplitRight() {
        XCTAssertEqual(SyncStrategyRule.split("registry:5000/team/app:v1").0, "registry:5000/team/app")
        XCTAssertEqual(SyncStrategyRule.split("registry:5000/team/app:v1").1, "v1")
        XCTAssertEqual(SyncStrategyRule.split("app").1, "latest")
        XCTAssertEqual(SyncStrategyRule.split("app@sha256:abc").1, "sha256:abc")
    }

    func testVariantReplicasFromANumberOrAPercentageOfThePrimaryRoundedUp() throws {
        let primary = try manifests(seedManifests(version: "v1"))[0]
        XCTAssertEqual(try VariantBuilder.replicas(.string("60%"), primary: primary), 2)
        XCTAssertEqual(try VariantBuilder.replicas(.string("10%"), primary: primary), 1)
        XCTAssertEqual(try VariantBuilder.replicas(.number(4), primary: primary), 4)
        XCTAssertEqual(try VariantBuilder.replicas(nil, primary: primary), 1)
        XCTAssertThrowsError(try VariantBuilder.replicas(.string("150%"), primary: primary))
        XCTAssertThrowsError(try VariantBuilder.replicas(.string("two"), primary: primary))
    }

    /// infra/examples/kubernetes reads as the README says: istio routing on host web, prune, its namespace.
    func testTheExampleAppLoads() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("infra/examples/kubernetes").path
        let spec = try KubernetesAppSpec.read(directory: dir, application: "web")
        XCTAssertEqual(spec.namespace, "shop")
        XCTAssertTrue(spec.autoCreateNamespace && spec.prune)
        XCTAssertEqual(spec.trafficRouting?.method, .istio)
        XCTAssertEqual(spec.trafficRouting?.istioHost, "web")
        let manifests = try ManifestLoader.load(directory: dir, spec: spec) { _ in "" }
        XCTAssertEqual(manifests.map(\.displayName).sorted(),
                       ["ConfigMap web-config", "Deployment web", "DestinationRule web", "Service web", "VirtualService web"])
    }
}
