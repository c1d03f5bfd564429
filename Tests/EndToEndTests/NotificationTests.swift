import Foundation
import GantryAPI
import GantrySupport
import XCTest

/// The outbox end to end: real servers send signed webhooks and commit statuses to a receiver in the test, in
/// order, through a receiver that is down, a `kill -9` of the server, throttling and dead-lettering.
final class NotificationTests: XCTestCase {
    static let approvalApp = """
        apiVersion: gantry.dev/v1
        spec:
          name: notified
          labels: {env: dev}
          pipeline:
            stages:
              - name: SCRIPT_RUN
                with: {run: "true"}
              - name: WAIT_APPROVAL
        """

    static func config(_ receiver: OutboxTestReceiver, root: String, events: String = "[]", maxAttempts: Int = 1000) throws -> String {
        try receiver.secret.write(toFile: root + "/signing-secret", atomically: true, encoding: .utf8)
        return """
            notifications:
              routes:
                - {name: everything, receiver: hook, events: \(events), labels: {env: dev}}
              receivers:
                - name: hook
                  webhook: {url: \(receiver.url)/hook, secret: file:\(root)/signing-secret}
            outbox: {maxAttempts: \(maxAttempts), initialInterval: 50ms, maxInterval: 300ms, timeout: 1s, sweepInterval: 1s}
            """
    }

    /// A server sending every event to `receiver`, and a pushed deployment suspended at its approval.
    static func deploymentWaitingForApproval(_ receiver: OutboxTestReceiver) async throws -> (ServerProcess, String) {
        let root = try makeTempDir()
        let (git, server, _) = try await launchServer(extraYAML: try Self.config(receiver, root: root))
        try git.write("app/app.gantry.yaml", Self.approvalApp)
        let id = try await server.deploymentID(commit: try git.commitAndPush("notify me").commit)
        _ = try await eventually("WAIT_APPROVAL to suspend") {
            stage(try await server.deployment(id), 1)?.status == "SUSPENDED" ? true : nil
        }
        return (server, id)
    }

    /// The events of one approved deployment, each once, in order, signed.
    func testEachEventOfAPushArrivesOnceInOrderSigned() async throws {
        let receiver = try await OutboxTestReceiver()
        defer { receiver.stop() }
        let (server, id) = try await Self.deploymentWaitingForApproval(receiver)
        defer { server.stop() }
        let approved = try await server.request("POST", "/api/v1/deployments/\(id)/approve")
        XCTAssertEqual(approved.status, 202)
        _ = try await server.waitForDeployment(id)
        let all = ["DEPLOYMENT_TRIGGERED", "DEPLOYMENT_PLANNED", "DEPLOYMENT_STARTED", "DEPLOYMENT_WAIT_APPROVAL",
                   "DEPLOYMENT_APPROVED", "DEPLOYMENT_SUCCEEDED"]
        _ = try await eventually("every event at the receiver") {
            receiver.events(receiver.delivered).count == all.count ? true : nil
        }
        XCTAssertEqual(receiver.events(receiver.delivered), all)
        XCTAssertEqual(receiver.calls.count, all.count, "each id once")
        XCTAssertTrue(receiver.calls.allSatisfy(\.signatureValid))
    }

    /// Receiver answering 503 while the deployment runs, the server killed meanwhile: after both come back, every
    /// event arrives in order, every id at least once, every signature valid.
    func testReceiverDownAndServerKilledLosesNothing() async throws {
        let receiver = try await OutboxTestReceiver()
        defer { receiver.stop() }
        receiver.answer([], then: .unavailable)
        let (server, id) = try await Self.deploymentWaitingForApproval(receiver)
        defer { server.stop() }
        _ = try await eventually("the sender to try and fail") { receiver.calls.count >= 3 ? true : nil }
        server.kill9()
        try await server.start()
        let approved = try await server.request("POST", "/api/v1/deployments/\(id)/approve")
        XCTAssertEqual(approved.status, 202)
        _ = try await server.waitForDeployment(id)
        receiver.answer([], then: .ok)
        let all = ["DEPLOYMENT_TRIGGERED", "DEPLOYMENT_PLANNED", "DEPLOYMENT_STARTED", "DEPLOYMENT_WAIT_APPROVAL",
                   "DEPLOYMENT_APPROVED", "DEPLOYMENT_SUCCEEDED"]
        _ = try await eventually("every event after the receiver is back", timeout: 60) {
            receiver.events(receiver.delivered).count == all.count ? true : nil
        }
        XCTAssertEqual(receiver.events(receiver.delivered), all)
        XCTAssertTrue(receiver.calls.allSatisfy(\.signatureValid))
        let pending = try await server.get(OutboxList.self, "/api/v1/outbox?status=pending")
        XCTAssertEqual(pending.messages.count, 0)
    }

    /// 429 with Retry-After delays the next attempt at least that long; 503s until maxAttempts dead-letter the row,
    /// which the API lists (without the secret) and retry sends.
    func testRetryAfterDeadLetterAndRetry() async throws {
        let receiver = try await OutboxTestReceiver()
        defer { receiver.stop() }
        receiver.answer([.throttled(retryAfter: 2)], then: .unavailable)
        let root = try makeTempDir()
        let (git, server, _) = try await launchServer(extraYAML: try Self.config(receiver, root: root,
                                                                                 events: "[DEPLOYMENT_TRIGGERED]", maxAttempts: 3)
                                                        + "\n" + usersYAML([("ada", "ada-password", "admin"),
                                                                            ("vic", "vic-password", "viewer")]))
        defer { server.stop() }
        try git.write("app/app.gantry.yaml", Self.approvalApp)
        _ = try git.commitAndPush("throttled")
        let failed = try await eventually("the row to be dead-lettered") {
            try await server.get(OutboxList.self, "/api/v1/outbox?status=failed").messages.first
        }
        let calls = receiver.calls
        XCTAssertEqual(calls.count, 3)
        XCTAssertGreaterThanOrEqual(calls[1].at.timeIntervalSince(calls[0].at), 2.0)
        XCTAssertEqual(failed.attempts, 3)
        XCTAssertEqual(failed.event, "DEPLOYMENT_TRIGGERED")
        XCTAssertTrue(failed.lastError?.contains("HTTP 503") == true, failed.lastError ?? "")
        XCTAssertFalse(failed.lastError?.contains(receiver.secret) == true)
        // The web UI shows it too; only an admin gets the button that sends it again.
        let viewer = try WebClient(base: server.url)
        try viewer.login("vic", "vic-password")
        let seen = try viewer.get("/outbox").body
        XCTAssertTrue(seen.contains("DEPLOYMENT_TRIGGERED") && seen.contains("HTTP 503"), seen)
        XCTAssertFalse(seen.contains("/outbox/\(failed.id)/retry"), "a viewer has no retry button")
        let admin = try WebClient(base: server.url)
        try admin.login("ada", "ada-password")
        XCTAssertTrue(try admin.get("/outbox").body.contains("action=\"/outbox/\(failed.id)/retry\""))

        receiver.answer([], then: .ok)
        let retried = try await server.request("POST", "/api/v1/outbox/\(failed.id)/retry")
        XCTAssertEqual(retried.status, 202)
        _ = try await eventually("the retried row to arrive") { receiver.delivered.isEmpty ? nil : true }
        XCTAssertEqual(receiver.delivered.first?.id, failed.idempotencyKey)
        let sent = try await eventually("the row to be sent") {
            try await server.get(OutboxList.self, "/api/v1/outbox?status=sent").messages.first
        }
        XCTAssertEqual(sent.id, failed.id)
        // Only a dead-lettered row is re-queued.
        let again = try await server.request("POST", "/api/v1/outbox/\(failed.id)/retry")
        XCTAssertEqual(again.status, 404)
    }

    /// A fake GitHub statuses API sees pending then success for a push, and failure for a failing deployment.
    func testCommitStatusesReachGitHub() async throws {
        let receiver = try await OutboxTestReceiver()
        defer { receiver.stop() }
        let root = try makeTempDir()
        try "gh-token-123".write(toFile: root + "/gh-token", atomically: true, encoding: .utf8)
        let (git, server, _) = try await launchServer(
            extraYAML: "outbox: {initialInterval: 50ms, maxInterval: 300ms, timeout: 1s}",
            repositoryYAML: "status: {provider: github, apiURL: \(receiver.url), token: file:\(root)/gh-token, repository: example/deploy}")
        defer { server.stop() }
        try git.write("app/app.gantry.yaml", """
            apiVersion: gantry.dev/v1
            spec:
              name: statused
              pipeline:
                stages:
                  - name: SCRIPT_RUN
                    with: {run: "test ! -f fail"}
            """)
        let good = try git.commitAndPush("good").commit
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: good))
        try git.write("app/fail", "x")
        let bad = try git.commitAndPush("bad").commit
        _ = try await server.waitForDeployment(try await server.deploymentID(commit: bad))
        struct Status: Decodable { var state: String; var context: String; var target_url: String }
        func states(_ sha: String) -> [String] {
            receiver.calls.filter { $0.path == "/repos/example/deploy/statuses/\(sha)" }
                .compactMap { try? JSONDecoder().decode(Status.self, from: Data($0.body)).state }
        }
        _ = try await eventually("the final statuses") {
            states(good).last == "success" && states(bad).last == "failure" ? true : nil
        }
        XCTAssertEqual(states(good), ["pending", "pending", "success"])
        XCTAssertEqual(states(bad), ["pending", "pending", "failure"])
        XCTAssertTrue(receiver.calls.allSatisfy { $0.authorization == "Bearer gh-token-123" })
        let first = try JSONDecoder().decode(Status.self, from: Data(receiver.calls[0].body))
        XCTAssertEqual(first.context, "gantry/statused")
        XCTAssertTrue(first.target_url.hasPrefix(server.url + "/deployments/"), first.target_url)
    }
}
