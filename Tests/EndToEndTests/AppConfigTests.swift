import Foundation
import GantrySupport
import KubeSupport
import XCTest

final class AppConfigTests: XCTestCase {
    func testBrokenYAMLInOneAppDoesNotStopAnother() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("good/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: good
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: echo fine}
            """)
        try git.write("bad/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: bad
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: echo fine
                  - name: WAIT
            """)
        let commit = try git.commitAndPush("one good, one broken").commit
        let id = try await server.deploymentID(commit: commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS")
        XCTAssertEqual(done.commit, commit)
        let apps = try await server.applications()
        let bad = try XCTUnwrap(apps.first { $0.configError != nil }, "\(apps)")
        let error = bad.configError ?? ""
        XCTAssertTrue(error.contains("line "), error)
        let all = try await server.deployments()
        XCTAssertFalse(all.contains { $0.application == "bad" })
        server.stop()
    }

    /// The seed `.pipe.yaml` from a PipeCD user, unchanged: it parses, and with no manifests beside it the kubernetes
    /// function's stages fail with a clear reason instead of crashing anything (KubernetesPipelineTests deploys it).
    func testSeedPipeYAMLParsesAndK8sStagesFailClearly() async throws {
        let (git, server, _) = try await launchServer(extraYAML: """
            platforms:
              - name: dev-cluster
                kind: kubernetes
            """)
        try git.write("k8s/.pipe.yaml", seedPipeYAML)
        try git.commitAndPush("k8s app")
        let first = try await eventually("the first (quick sync) deployment") {
            try await server.deployments().first?.id
        }
        let quick = try await server.waitForDeployment(first)
        XCTAssertEqual(quick.status, "FAILURE")
        XCTAssertEqual(stage(quick, 0)?.name, "K8S_SYNC")
        XCTAssertEqual(stage(quick, 0)?.message,
                       "InvalidManifest: no Kubernetes manifests in the app's directory at the target commit")

        let app = quick.application
        _ = try server.cli(["sync", app, "--strategy", "pipeline"])
        let second = try await eventually("the pipeline deployment") {
            try await server.deployments().first { $0.id != first }?.id
        }
        let pipeline = try await server.waitForDeployment(second)
        XCTAssertEqual(pipeline.status, "FAILURE")
        XCTAssertEqual(pipeline.stages.filter { !$0.rollback }.map(\.name),
                       ["K8S_CANARY_ROLLOUT", "WAIT", "K8S_PRIMARY_ROLLOUT", "K8S_CANARY_CLEAN"])
        XCTAssertEqual(stage(pipeline, 0)?.message,
                       "InvalidManifest: no Kubernetes manifests in the app's directory at the target commit")
        XCTAssertEqual(stage(pipeline, 1)?.status, "CANCELLED")
        let health = try await server.request("GET", "/healthz", auth: false)
        XCTAssertEqual(health.status, 200)
        server.stop()
    }
}
