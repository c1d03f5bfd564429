import Foundation
@testable import Outbox
import Store
import XCTest

/// What each receiver sends for a row, and that configured secrets never show in an error.
final class ReceiverRequestTests: XCTestCase {
    let message = OutboxMessage(id: 1, idempotencyKey: "msg_d1_1", target: "t", deploymentID: "d1", seq: 1,
                                payload: "{}", status: .pending, attempts: 0, nextAttemptAt: Date(), lastError: nil,
                                createdAt: Date(), sentAt: nil)
    let event = DeploymentEvent(type: .succeeded, at: Date(), deployment: .init(
        id: "d1", application: "web", repository: "demo", commit: "0123456789abcdef", commitMessage: "fix\nmore",
        author: "a", status: .success, statusReason: "", labels: [:]))

    func receivers() throws -> OutboxReceivers {
        let notifications = NotificationsConfig(routes: [], receivers: [
            ReceiverConfig(name: "chat", slack: .init(hookURL: "https://hooks.example/T000/secret-path")),
            ReceiverConfig(name: "hook", webhook: .init(url: "https://ci.example/h", signatureSecret: "s3cret-value")),
        ])
        return try OutboxReceivers(notifications: notifications, statuses: [
            .init(id: "demo", remote: "git@github.com:example/deploy.git", status: CommitStatusConfig(token: "tok-123")),
        ], externalURL: "https://gantry.example/", resolve: { $0 })
    }

    func testSlackSaysAppEventCommitAndLinks() throws {
        let request = try XCTUnwrap(try receivers().receiver("chat")).request(for: message, event: event, now: Date())
        let text = try JSONDecoder().decode(SlackReceiver.Message.self, from: Data(request.body)).text
        XCTAssertTrue(text.contains("*web* DEPLOYMENT_SUCCEEDED (SUCCESS)"), text)
        XCTAssertTrue(text.contains("`0123456`") && text.contains("fix") && !text.contains("more"), text)
        XCTAssertTrue(text.contains("<https://gantry.example/deployments/d1|"), text)
    }

    func testWebhookIsSignedWithTheRowsIdAndGitHubGetsTheRepositoryFromTheRemote() throws {
        let r = try receivers()
        let hook = try XCTUnwrap(r.receiver("hook")).request(for: message, event: event, now: Date(timeIntervalSince1970: 100))
        XCTAssertEqual(hook.headers["webhook-id"], "msg_d1_1")
        XCTAssertEqual(hook.headers["webhook-timestamp"], "100")
        XCTAssertEqual(hook.body, Array("{}".utf8))
        XCTAssertTrue(hook.headers["webhook-signature"]?.hasPrefix("v1,") == true)
        let status = try XCTUnwrap(r.receiver(OutboxTargets.statusTarget(repository: "demo")))
            .request(for: message, event: event, now: Date())
        XCTAssertEqual(status.url.absoluteString, "https://api.github.com/repos/example/deploy/statuses/0123456789abcdef")
        XCTAssertEqual(status.headers["Authorization"], "Bearer tok-123")
        XCTAssertEqual(r.redaction.apply("POST https://hooks.example/T000/secret-path failed, key s3cret-value"),
                       "POST *** failed, key ***")
    }
}
