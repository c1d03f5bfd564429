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
            ReceiverConfig(name: "hook", webhook: .init(url: "https://ci.example/h", secret: "s3cret-value")),
        ])
        return try OutboxReceivers(notifications: notifications, statuses: [
            .init(id: "demo", remote: "git@github.com:example/deploy.git", status: CommitStatusConfig(token: "tok-123")),
        ], externalURL: "https://gantry.example/", resolve: { $0 })
    }

    /// The one call an event receiver makes for `event`.
    func request(_ receivers: OutboxReceivers, _ target: String, _ event: DeploymentEvent, now: Date = Date()) async throws
        -> OutboundRequest {
        let receiver = try XCTUnwrap(receivers.receiver(target) as? any EventReceiver, target)
        return try await receiver.request(for: message, event: event, now: now)
    }

    func testSlackSaysAppEventCommitAndLinks() async throws {
        let request = try await request(try receivers(), "chat", event)
        let text = try JSONDecoder().decode(SlackReceiver.Message.self, from: Data(request.body)).text
        XCTAssertTrue(text.contains("*web* DEPLOYMENT_SUCCEEDED (SUCCESS)"), text)
        XCTAssertTrue(text.contains("`0123456`") && text.contains("fix") && !text.contains("more"), text)
        XCTAssertTrue(text.contains("<https://gantry.example/deployments/d1|"), text)
    }

    func testWebhookIsSignedWithTheRowsIdAndGitHubGetsTheRepositoryFromTheRemote() async throws {
        let r = try receivers()
        let hook = try await request(r, "hook", event, now: Date(timeIntervalSince1970: 100))
        XCTAssertEqual(hook.headers["webhook-id"], "msg_d1_1")
        XCTAssertEqual(hook.headers["webhook-timestamp"], "100")
        XCTAssertEqual(hook.body, Array("{}".utf8))
        XCTAssertTrue(hook.headers["webhook-signature"]?.hasPrefix("v1,") == true)
        let status = try await request(r, OutboxTargets.statusTarget(repository: "demo"), event)
        XCTAssertEqual(status.url.absoluteString, "https://api.github.com/repos/example/deploy/statuses/0123456789abcdef")
        XCTAssertEqual(status.headers["Authorization"], "Bearer tok-123")
        XCTAssertEqual(r.redaction.apply("POST https://hooks.example/T000/secret-path failed, key s3cret-value"),
                       "POST *** failed, key ***")
    }

    /// GitLab, Gitea and Bitbucket Cloud: each host's path, auth header and state words, for a failed deployment.
    func testEachHostGetsItsOwnStatusRequest() async throws {
        let failed = DeploymentEvent(type: .failed, at: Date(), deployment: .init(
            id: "d1", application: "web", repository: "demo", commit: "0123456789abcdef", commitMessage: "fix",
            author: "a", status: .failure, statusReason: "stage WAIT failed", labels: [:]))
        func request(_ provider: String, remote: String, apiURL: String? = nil) async throws -> OutboundRequest {
            var status = CommitStatusConfig(token: "tok-\(provider)")
            status.provider = provider
            status.apiURL = apiURL
            let r = try OutboxReceivers(notifications: nil, statuses: [.init(id: "demo", remote: remote, status: status)],
                                        externalURL: "https://gantry.example", resolve: { $0 })
            return try await self.request(r, OutboxTargets.statusTarget(repository: "demo"), failed)
        }
        func body(_ r: OutboundRequest) throws -> [String: String] { try JSONDecoder().decode([String: String].self, from: Data(r.body)) }

        let gitlab = try await request("gitlab", remote: "https://gitlab.com/group/sub/deploy.git")
        XCTAssertEqual(gitlab.url.absoluteString, "https://gitlab.com/api/v4/projects/group%2Fsub%2Fdeploy/statuses/0123456789abcdef")
        XCTAssertEqual(gitlab.headers["PRIVATE-TOKEN"], "tok-gitlab")
        XCTAssertEqual(try body(gitlab), ["state": "failed", "name": "gantry/web", "target_url": "https://gantry.example/deployments/d1",
                                          "description": "FAILURE: stage WAIT failed"])

        let gitea = try await request("gitea", remote: "https://git.example:3000/team/deploy.git")
        XCTAssertEqual(gitea.url.absoluteString, "https://git.example:3000/api/v1/repos/team/deploy/statuses/0123456789abcdef")
        XCTAssertEqual(gitea.headers["Authorization"], "token tok-gitea")
        XCTAssertEqual(try body(gitea)["state"], "failure")

        let bitbucket = try await request("bitbucket", remote: "git@bitbucket.org:work/deploy.git")
        XCTAssertEqual(bitbucket.url.absoluteString,
                       "https://api.bitbucket.org/2.0/repositories/work/deploy/commit/0123456789abcdef/statuses/build")
        XCTAssertEqual(bitbucket.headers["Authorization"], "Bearer tok-bitbucket")
        XCTAssertEqual(try body(bitbucket)["state"], "FAILED")
        XCTAssertEqual(try body(bitbucket)["key"], "gantry/web")

        do {
            _ = try await request("gitea", remote: "git@git.example:team/deploy.git")
            XCTFail("a Gitea remote over ssh names no API")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot tell the Gitea server's API"), "\(error)")
        }
        do {
            _ = try await request("sourcehut", remote: "https://git.sr.ht/~me/deploy")
            XCTFail("sourcehut is not a provider")
        } catch {
            XCTAssertTrue("\(error)".contains("must be one of"), "\(error)")
        }
    }
}
