import Foundation
import FunctionKit
import KubeSupport
import SQLiteStore
import Store
import GantryAPI
import GantrySupport
import XCTest

/// ANALYSIS end to end: the seed canary KubernetesApp with an ANALYSIS stage between its canary and its primary
/// rollout, a real `gantry serve`, the built-in analysis function querying a REAL Prometheus (behind basic auth,
/// scraping a target the test controls every second), and kubectl against the fake Kubernetes API server.
final class AnalysisPipelineTests: XCTestCase {
    var fake: FakeKubeAPIServer!
    var target: MetricsTarget!
    var prometheus: PrometheusServer!

    override func tearDown() { fake?.stop(); prometheus?.stop(); target?.stop() }

    /// The web app's error rate, and a latency per variant for the comparing strategies (Prometheus adds `job="web"`,
    /// its scrape job's name).
    func exposition(errorRate: Double, canaryLatency: Double = 0.2) -> String {
        """
        # TYPE error_rate gauge
        error_rate{app="web",namespace="default"} \(errorRate)
        # TYPE latency_seconds gauge
        latency_seconds{app="web",variant="canary"} \(canaryLatency)
        latency_seconds{app="web",variant="baseline"} 0.2

        """
    }

    /// The seed canary with ANALYSIS (`analysis`: its `with:` block) where the seed waits.
    func canaryPipe(analysis: String) -> String {
        """
        apiVersion: pipecd.dev/v1beta1
        kind: KubernetesApp
        spec:
          input:
            namespace: default
          pipeline:
            stages:
              - name: K8S_CANARY_ROLLOUT
                with:
                  replicas: 60%
              - name: ANALYSIS
                with:
        \(analysis.split(separator: "\n").map { "            " + $0 }.joined(separator: "\n"))
              - name: K8S_PRIMARY_ROLLOUT
              - name: K8S_CANARY_CLEAN

        """
    }

    let template = """
        apiVersion: pipecd.dev/v1beta1
        kind: AnalysisTemplate
        spec:
          metrics:
            error_rate:
              provider: prometheus-dev
              query: error_rate{app="{{ .App.Name }}",namespace="{{ .K8s.Namespace }}",job="{{ .Args.job }}"}
              interval: 1s
              expected: {max: 0.1}
              failureLimit: 1

        """

    /// Prometheus scraping the target (error rate 0.01), a server with the fake cluster and Prometheus as its
    /// analysis provider, and the app's first push deployed by K8S_SYNC: the primary runs demo:v0.1.0.
    func firstPushDeployed(analysis: String) async throws -> (git: GitFixture, server: ServerProcess) {
        fake = try FakeKubeAPIServer()
        target = try await MetricsTarget()
        try await target.serve(exposition(errorRate: 0.01))
        prometheus = try PrometheusServer(scraping: target.address)
        let (git, server, _) = try await launchServer(extraYAML: try fake.platformsYAML() + """

            analysisProviders:
              - name: prometheus-dev
                type: PROMETHEUS
                config:
                  address: \(prometheus.address)
                  username: \(prometheus.username)
                  password: file:\(prometheus.passwordFile)
            """)
        try git.write(".pipe/analysis-template.yaml", template)
        try git.write("web/.pipe.yaml", canaryPipe(analysis: analysis))
        try git.write("web/deployment.yaml", seedManifests(version: "v0.1.0"))
        let first = try await server.waitForDeployment(try await server.deploymentID(commit: try git.commitAndPush("v0.1.0").commit))
        XCTAssertEqual(first.status, "SUCCESS", server.logText())
        XCTAssertEqual(first.stages.map(\.name), ["K8S_SYNC", "ROLLBACK"], "first push: quick sync only")
        try await prometheus.waitUntilQueryable(#"error_rate{app="web",namespace="default",job="web"}"#)
        return (git, server)
    }

    func deployV020(_ git: GitFixture, _ server: ServerProcess) async throws -> String {
        try git.write("web/deployment.yaml", seedManifests(version: "v0.2.0"))
        return try await server.deploymentID(commit: try git.commitAndPush("v0.2.0").commit)
    }

    /// The cluster once the deployment ended: the primary on `version`, and no canary left.
    func assertPrimary(runs version: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try fake.object("deployments", "web")?["spec.template.spec.containers.0.image"]?.string
        XCTAssertEqual(image, "demo:\(version)", file: file, line: line)
        XCTAssertNil(try fake.object("deployments", "web-canary"), "the canary is gone", file: file, line: line)
    }

    func checkpoint(_ server: ServerProcess, _ id: String) async throws -> (status: StageStatus, json: JSONValue?) {
        let stage = try await SQLiteStore(path: DataLayout.database(server.dataDir)).deployment(id: id)?.stages.first { $0.index == 1 }
        return (stage?.status ?? .notStarted, try stage?.checkpoint.map(JSONValue.decode))
    }

    func testAGoodMetricPassesEveryRoundAndTheCanaryIsPromoted() async throws {
        let (git, server) = try await firstPushDeployed(analysis: """
            duration: 4s
            metrics:
              - template:
                  name: error_rate
                  appArgs: {job: web}
              - provider: prometheus-dev
                strategy: CANARY_BASELINE
                deviation: HIGH
                query: latency_seconds{app="{{ .App.Name }}",variant="{{ .Variant.Name }}"}
                interval: 2s
            """)
        let id = try await deployV020(git, server)
        let done = try await server.waitForDeployment(id, timeout: 90)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        XCTAssertEqual(stageStatuses(done),
                       ["K8S_CANARY_ROLLOUT SUCCESS", "ANALYSIS SUCCESS", "K8S_PRIMARY_ROLLOUT SUCCESS", "K8S_CANARY_CLEAN SUCCESS",
                        "ROLLBACK SKIPPED"])
        let logs = stageLog(done, 1)
        XCTAssertEqual(analysisRounds(logs, "metrics[0]"), [1, 2, 3, 4], logs)
        XCTAssertEqual(analysisRounds(logs, "metrics[1]"), [1, 2], logs)
        // The template's placeholders rendered from the app (name, the config's namespace) and the stage's appArgs.
        XCTAssertTrue(logs.contains(#"round 4/4 metrics[0]: ok: query "error_rate{app="web",namespace="default",job="web"}" over +3s..+4s: 0.01"#), logs)
        // CANARY_BASELINE: the query once per variant.
        XCTAssertTrue(logs.contains(#"canary query "latency_seconds{app="web",variant="canary"}""#), logs)
        XCTAssertTrue(logs.contains(#"baseline query "latency_seconds{app="web",variant="baseline"}""#), logs)
        XCTAssertFalse(logs.contains(prometheus.password), "the provider's password never reaches the log")
        let (_, saved) = try await checkpoint(server, id)
        XCTAssertEqual(saved?["checks"]?["metrics[0]"], .object(["rounds": .number(4), "failures": .number(0)]))
        try assertPrimary(runs: "v0.2.0")
        server.stop()
    }

    func testABadMetricFailsAtFailureLimitPlusOneAndRollsBackTheCanary() async throws {
        let (git, server) = try await firstPushDeployed(analysis: """
            duration: 20s
            metrics:
              - provider: prometheus-dev
                query: error_rate{app="web"}
                interval: 1s
                expected: {max: 0.1}
                failureLimit: 1
            """)
        try await target.serve(exposition(errorRate: 0.5))
        _ = try await eventually("Prometheus to scrape the bad error rate", timeout: 20) {
            try await self.prometheus.instant(#"error_rate{app="web"}"#) == [0.5] ? true : nil
        }
        let id = try await deployV020(git, server)
        let done = try await server.waitForDeployment(id, timeout: 90)
        XCTAssertEqual(done.status, "FAILURE", server.logText())
        XCTAssertEqual(stageStatuses(done),
                       ["K8S_CANARY_ROLLOUT SUCCESS", "ANALYSIS FAILURE", "K8S_PRIMARY_ROLLOUT CANCELLED",
                        "K8S_CANARY_CLEAN CANCELLED", "ROLLBACK SUCCESS"])
        let analysis = try XCTUnwrap(stage(done, 1))
        XCTAssertEqual(analysis.errorType, "AnalysisFailed")
        XCTAssertTrue(analysis.message.contains("metrics[0] failed 2 of 2 rounds, more than its failureLimit 1"), "\(analysis)")
        let logs = stageLog(done, 1)
        XCTAssertEqual(analysisRounds(logs, "metrics[0]"), [1, 2], "no round after the limit was exceeded: \(logs)")
        XCTAssertTrue(logs.contains("0.5 is outside the expected range [-inf, 0.1]"), logs)
        try assertPrimary(runs: "v0.1.0")   // it never left v0.1.0; ROLLBACK removed the canary
        server.stop()
    }

    func testKill9BetweenRoundsResumesAtTheNextRoundWithoutLosingOrRepeatingOne() async throws {
        let (git, server) = try await firstPushDeployed(analysis: """
            duration: 6s
            metrics:
              - template:
                  name: error_rate
                  appArgs: {job: web}
            """)
        let id = try await deployV020(git, server)
        // Between rounds: the stage waits for its next round, its checkpoint committed before it suspended.
        let before = try await eventually("ANALYSIS to wait after its second round", timeout: 60) { () -> Int? in
            let (status, saved) = try await self.checkpoint(server, id)
            guard status == .suspended, let n = saved?["checks"]?["metrics[0]"]?["rounds"]?.number, n >= 2 else { return nil }
            return Int(n)
        }
        server.kill9()
        let (_, atKill) = try await checkpoint(server, id)
        XCTAssertEqual(atKill?["checks"]?["metrics[0]"]?["rounds"]?.number, Double(before), "nothing ran after the kill")
        try await server.start()

        let done = try await server.waitForDeployment(id, timeout: 90)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        let logs = stageLog(done, 1)
        // Every round exactly once, in order: the first after the restart is the one after the checkpoint.
        XCTAssertEqual(analysisRounds(logs, "metrics[0]"), Array(1...6), logs)
        let (_, saved) = try await checkpoint(server, id)
        XCTAssertEqual(saved?["checks"]?["metrics[0]"], .object(["rounds": .number(6), "failures": .number(0)]))
        try assertPrimary(runs: "v0.2.0")
        server.stop()
    }
}
