import Foundation
import GantryAPI
import GantrySupport
import KubeSupport
import XCTest

/// PipeCD v1's `kind: Application`, whose platform is its plugin (`spec.plugins.kubernetes`): the seed's canary
/// pipeline deploys through the kubernetes function from it, against the FAKE Kubernetes API server, and the keys
/// nothing reads are listed on the application.
final class PipeCDv1ConfigTests: XCTestCase {
    /// The seed's pipeline as PipeCD v1 writes it (the wait shortened), with two keys Gantry does not read.
    static let seedAsV1 = seedPipeYAML
        .replacingOccurrences(of: "kind: KubernetesApp\nspec:\n", with: """
            kind: Application
            spec:
              name: web
              description: the seed's canary, written for PipeCD v1
              eventWatcher: []

            """)
        .replacingOccurrences(of: "duration: 10s", with: "duration: 1s") + """
          plugins:
            kubernetes:
              deployTarget: dev-cluster
              input:
                manifests: [deployment.yaml]

        """

    private func view<T: Decodable>(_ type: T.Type, _ server: ServerProcess, _ path: String) async throws -> T {
        try JSONDecoder().decode(type, from: try await server.request("GET", path).data)
    }

    private func finished(_ server: ServerProcess, commit: String) async throws -> DeploymentView {
        let id = try await server.deploymentID(commit: commit)
        return try await eventually("deployment \(id) to finish", timeout: 90) {
            let d = try await self.view(DeploymentView.self, server, "/api/v1/deployments/\(id)")
            return d.isFinal ? d : nil
        }
    }

    func testTheSeedCanaryRunsFromAV1ApplicationConfig() async throws {
        let fake = try FakeKubeAPIServer()
        defer { fake.stop() }
        // Two platforms: the plugin's deployTarget picks one.
        let (git, server, _) = try await launchServer(extraYAML: """
            platforms:
              \(try fake.platformEntry())
              - {name: prod-cluster, kind: kubernetes, kubeconfig: /nonexistent/kubeconfig}
            \(usersYAML([("vera", "vera-password", "viewer")]))
            """)
        try git.write("web/app.pipecd.yaml", Self.seedAsV1)
        try git.write("web/deployment.yaml", seedManifests(version: "v0.1.0"))
        let first = try await finished(server, commit: try git.commitAndPush("v0.1.0").commit)
        XCTAssertEqual(first.status, "SUCCESS", server.logText())
        XCTAssertEqual(first.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"])

        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        let second = try await finished(server, commit: try git.commitAndPush("v0.2.0").commit)
        XCTAssertEqual(second.status, "SUCCESS", server.logText())
        XCTAssertEqual(second.summary, "Sync progressively because of updating image demo from v0.1.0 to v0.2.0")
        XCTAssertEqual(second.stages.map { "\($0.name) \($0.status)" },
                       ["K8S_CANARY_ROLLOUT SUCCESS", "WAIT SUCCESS", "K8S_PRIMARY_ROLLOUT SUCCESS",
                        "K8S_CANARY_CLEAN SUCCESS", "ROLLBACK SKIPPED"])
        XCTAssertEqual(try fake.object("deployments", "web")?["spec.template.spec.containers.0.image"]?.string, "demo:v0.2.0")
        XCTAssertNil(try fake.object("deployments", "web-canary"), "the canary is gone")

        let apps = try await view(ApplicationList.self, server, "/api/v1/applications")
        let web = try XCTUnwrap(apps.applications.first { $0.name == "web" })
        XCTAssertEqual(web.kind, "KubernetesApp")
        XCTAssertEqual(web.platform, "dev-cluster")
        XCTAssertNil(web.configError)
        XCTAssertEqual(web.configWarnings, [
            "web/app.pipecd.yaml line 6: spec.eventWatcher is not implemented by Gantry and is ignored",
        ])
        let browser = try WebClient(base: server.url)
        try browser.login("vera", "vera-password")
        let page = try browser.get("/applications/web")
        XCTAssertTrue(page.body.contains(#"<p class="config-warning">web/app.pipecd.yaml line 6: spec.eventWatcher is not "#
                                         + "implemented by Gantry and is ignored</p>"), page.body)
    }
}
