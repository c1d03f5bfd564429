import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// "My push did nothing" answered in one look: the deliveries API lists recent deliveries with verdict and
/// reason (refused ones too), /metrics counts them, and neither the API nor the log ever shows a secret
/// or a signature.
final class ObservabilityTests: XCTestCase {
    func testDeliveriesAndMetricsExplainEachDeliveryWithoutLeakingSecrets() async throws {
        let (git, server, _) = try await launchServer(hook: false, environment: ["LOG_LEVEL": "trace"])
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: observed
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "true"}
            """)
        let commit = try git.commitAndPush("observed").commit
        let zeros = String(repeating: "0", count: 40)
        var signer = WebhookSigner(secret: git.secret, url: server.url + "/hooks/demo", repository: git.bare)
        let wrongKey = WebhookSigner(secret: "not the secret", url: signer.url)
        var signatures: [String] = []

        func send(_ delivery: WebhookSigner.Delivery, with s: WebhookSigner) async throws -> Int {
            signatures.append(String(s.signature(delivery.body).dropFirst("sha256=".count)))
            return try await s.send(delivery, signature: s.signature(delivery.body)).status
        }
        let ping = try await send(signer.ping(), with: signer)
        let otherBranch = try await send(signer.push(after: commit, before: zeros, ref: "refs/heads/feature"), with: signer)
        let forged = try await send(signer.push(after: commit, before: zeros), with: wrongKey)
        signer.repository = "https://github.com/someone/else.git"
        let otherRepository = try await send(signer.push(after: commit, before: zeros), with: signer)
        signer.repository = git.bare
        let accepted = try await send(signer.push(after: commit, before: zeros), with: signer)
        XCTAssertEqual([ping, otherBranch, forged, otherRepository, accepted], [200, 200, 401, 200, 202])

        let answer = try await server.request("GET", "/api/v1/bindings/demo/deliveries")
        XCTAssertEqual(answer.status, 200)
        let deliveries = try answer.decode(DeliveryList.self).deliveries
        XCTAssertEqual(deliveries.map(\.verdict), ["accepted", "ignored", "unauthorized", "ignored", "ignored"])
        XCTAssertEqual(deliveries.map(\.recorded), [true, true, false, true, true])
        XCTAssertEqual(deliveries.map(\.reason), [
            "push to refs/heads/main at \(commit.prefix(12))",
            "repository github.com/someone/else is not bound here (binding demo is for \(git.bare.dropLast(4)))",
            "X-Hub-Signature-256 does not match the body with any configured secret",
            "push to refs/heads/feature, binding watches main",
            "ping",
        ])
        XCTAssertNotNil(deliveries.first?.triggerId)
        let limited = try await server.deliveries(limit: 2)
        XCTAssertEqual(limited.count, 2)
        let anonymous = try await server.request("GET", "/api/v1/bindings/demo/deliveries", auth: false)
        XCTAssertEqual(anonymous.status, 401)
        let unknown = try await server.request("GET", "/api/v1/bindings/nobody/deliveries")
        XCTAssertEqual(unknown.status, 404)

        let id = try await server.deploymentID(commit: commit)
        _ = try await server.waitForDeployment(id)
        let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        for line in [#"gantry_webhook_deliveries_total{binding="demo",verdict="accepted"} 1"#,
                     #"gantry_webhook_deliveries_total{binding="demo",verdict="ignored"} 3"#,
                     #"gantry_webhook_deliveries_total{binding="demo",verdict="unauthorized"} 1"#,
                     #"gantry_reconcile_catches_total{repository="demo"} 0"#,
                     "gantry_trigger_queue_depth 0", "gantry_webhook_in_flight 0"] {
            XCTAssertTrue(metrics.contains(line), "missing \(line) in\n\(metrics)")
        }
        XCTAssertTrue(metrics.contains("gantry_webhook_ingest_duration_seconds_bucket"), metrics)
        XCTAssertTrue(metrics.contains(#"gantry_webhook_ingest_duration_seconds_count 4"#), metrics)

        server.stop()
        let log = server.logText()
        XCTAssertTrue(log.contains("webhook delivery"), "deliveries are logged (at trace level here)")
        for secret in [git.secret, server.token] + signatures {
            XCTAssertFalse(log.contains(secret), "the log shows \(secret.prefix(8))…")
            XCTAssertFalse(String(decoding: answer.data, as: UTF8.self).contains(secret))
        }
    }

    /// Each finished invocation counts in the server's own registry (the one /metrics prints), per function and
    /// outcome, with its wall and CPU time and peak RSS from the host's rusage.
    func testMetricsCountEachInvocationPerFunctionWithItsTimings() async throws {
        let (git, server, _) = try await launchServer()
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: measured
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "true"}
                  - name: SCRIPT_RUN
                    with: {run: "true"}
            """)
        let commit = try git.commitAndPush("measured").commit
        let id = try await server.deploymentID(commit: commit)
        let done = try await server.waitForDeployment(id)
        XCTAssertEqual(done.status, "SUCCESS", server.logText())
        let metrics = String(decoding: try await server.request("GET", "/metrics", auth: false).data, as: UTF8.self)
        for line in [#"gantry_invocations_total{function="script-run",status="SUCCESS",error_type=""} 2"#,
                     #"gantry_invocation_wall_seconds_count{function="script-run"} 2"#,
                     #"gantry_invocation_cpu_seconds_count{function="script-run"} 2"#,
                     #"gantry_invocation_max_rss_kib_count{function="script-run"} 2"#] {
            XCTAssertTrue(metrics.contains(line), "missing \(line) in\n\(metrics)")
        }
        // Buckets fit stage durations: a stage of minutes still lands in a finite bucket.
        XCTAssertTrue(metrics.contains(#"gantry_invocation_wall_seconds_bucket{function="script-run",le="600.0"} 2"#), metrics)
        let wallSum = metrics.split(separator: "\n").first { $0.hasPrefix(#"gantry_invocation_wall_seconds_sum{function="script-run"}"#) }
        XCTAssertGreaterThan(wallSum.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0, 0, metrics)
    }
}
