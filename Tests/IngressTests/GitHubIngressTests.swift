import Ingress
import Store
import XCTest

/// GitHub deliveries from the published example payloads, end to end through `Ingress.handle`.
final class GitHubIngressTests: XCTestCase {
    // push-new-branch.json creates refs/heads/master at this commit.
    let pushedCommit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"

    func testPingIsIgnoredAndRecordedWithoutTrigger() async throws {
        let harness = try IngressHarness(branch: "main")
        let reply = await harness.send(try GitHubDeliveries.fixture("ping"), event: "ping", delivery: "ping-1")
        XCTAssertEqual(reply, IngressReply(status: 200, verdict: .ignored, reason: "ping", deliveryID: "ping-1"))
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.map(\.event), ["ping"])
        XCTAssertEqual(recorded.first?.verdict, .ignored)
        XCTAssertNil(recorded.first?.trigger)
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testPushToWatchedBranchIsAcceptedAfterCommit() async throws {
        let harness = try IngressHarness(branch: "master")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-new-branch"), delivery: "push-1")
        XCTAssertEqual(reply.status, 202)
        XCTAssertEqual(reply.verdict, .accepted)
        XCTAssertEqual(reply.deliveryID, "push-1")
        XCTAssertEqual(reply.triggerID, 1)

        let triggers = await harness.store.recordedTriggers()
        XCTAssertEqual(triggers.map(\.trigger), [
            NewTrigger(repository: "demo", ref: "refs/heads/master", commit: pushedCommit, kind: .webhook,
                       commitMessage: "Initial commit", author: "Codertocat"),
        ])
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.map(\.verdict), [.accepted])
        XCTAssertEqual(recorded.first?.event, "push")
        // Woken exactly once, and only after the trigger was committed.
        XCTAssertEqual(harness.committedAtWakeup.values, [1])
    }

    func testFullRefInBindingBranchIsTheSameBranch() async throws {
        let harness = try IngressHarness(branch: "refs/heads/master")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-new-branch"))
        XCTAssertEqual(reply.status, 202)
    }

    func testPushToOtherBranchIsIgnoredAndRecorded() async throws {
        let harness = try IngressHarness(branch: "main")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-new-branch"), delivery: "push-2")
        XCTAssertEqual(reply, IngressReply(status: 200, verdict: .ignored,
                                           reason: "push to refs/heads/master, binding watches main",
                                           deliveryID: "push-2"))
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.map(\.reason), ["push to refs/heads/master, binding watches main"])
        let triggers = await harness.store.recordedTriggers()
        XCTAssertTrue(triggers.isEmpty)
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testTagDeletionIsIgnoredWithReason() async throws {
        let harness = try IngressHarness(branch: "master")
        let reply = await harness.send(try GitHubDeliveries.fixture("push-tag-deleted"))
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.verdict, .ignored)
        XCTAssertEqual(reply.reason, "tag push (refs/tags/simple-tag)")
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testDuplicateDeliveryEnqueuesOneTrigger() async throws {
        let harness = try IngressHarness(branch: "master")
        let body = try GitHubDeliveries.fixture("push-new-branch")
        let first = await harness.send(body, delivery: "same-id")
        let second = await harness.send(body, delivery: "same-id")
        XCTAssertEqual(first.status, 202)
        XCTAssertEqual(second, IngressReply(status: 200, verdict: .duplicate, reason: "delivery already received",
                                            deliveryID: "same-id"))
        let triggers = await harness.store.recordedTriggers()
        XCTAssertEqual(triggers.count, 1)
        XCTAssertEqual(harness.wakeups.value, 1)
    }

    func testIgnoredDeliveriesDedupeToo() async throws {
        let harness = try IngressHarness(branch: "main")
        let body = try GitHubDeliveries.fixture("ping")
        let first = await harness.send(body, event: "ping", delivery: "ping-again")
        let second = await harness.send(body, event: "ping", delivery: "ping-again")
        XCTAssertEqual(first.verdict, .ignored)
        XCTAssertEqual(second.verdict, .duplicate)
        let recorded = await harness.store.recordedDeliveries()
        XCTAssertEqual(recorded.count, 1)
    }

    func testMissingDeliveryIDIsDerivedFromBodySoResendsDedupe() async throws {
        let harness = try IngressHarness(branch: "master")
        let body = try GitHubDeliveries.fixture("push-new-branch")
        let first = await harness.send(body, delivery: nil)
        let second = await harness.send(body, delivery: nil)
        XCTAssertEqual(first.status, 202)
        XCTAssertEqual(second.verdict, .duplicate)
        let id = try XCTUnwrap(first.deliveryID)
        XCTAssertTrue(id.hasPrefix("body-sha256:"), id)
        XCTAssertEqual(id.count, "body-sha256:".count + 64)
        XCTAssertEqual(second.deliveryID, id)
        XCTAssertEqual(harness.wakeups.value, 1)
    }

    func testUnsupportedOrMissingEventIsIgnored() async throws {
        let harness = try IngressHarness(branch: "master")
        let body = try GitHubDeliveries.fixture("push-new-branch")
        let issues = await harness.send(body, event: "issues")
        XCTAssertEqual(issues.status, 200)
        XCTAssertEqual(issues.reason, "unsupported event issues")
        let none = await harness.send(body, event: nil)
        XCTAssertEqual(none.status, 200)
        XCTAssertEqual(none.verdict, .ignored)
        XCTAssertEqual(none.reason, "X-GitHub-Event header missing")
        XCTAssertEqual(harness.wakeups.value, 0)
    }

    func testStoreFailureIsUnavailableAndTheRetrySucceeds() async throws {
        let harness = try IngressHarness(branch: "master")
        let body = try GitHubDeliveries.fixture("push-new-branch")
        await harness.store.setFailing(true)
        let failed = await harness.send(body, delivery: "retry-me")
        XCTAssertEqual(failed.status, 503)
        XCTAssertEqual(failed.reason, "store unavailable")
        XCTAssertNil(failed.triggerID)
        XCTAssertEqual(harness.wakeups.value, 0)

        await harness.store.setFailing(false)
        let retried = await harness.send(body, delivery: "retry-me")
        XCTAssertEqual(retried.status, 202)
        XCTAssertEqual(harness.committedAtWakeup.values, [1])
    }

    func testFormEncodedPushIsVerifiedOverTheRawBody() async throws {
        let harness = try IngressHarness(branch: "master")
        let json = try GitHubDeliveries.fixture("push-new-branch")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = try XCTUnwrap(String(decoding: json, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: allowed))
        let body = Array("payload=\(encoded)".utf8)
        let headers = GitHubDeliveries.headers(event: "push", body: body,
                                               contentType: "application/x-www-form-urlencoded")
        let reply = await harness.ingress.handle(binding: "demo-github", headers: headers, body: body)
        XCTAssertEqual(reply.status, 202, reply.reason)
        let triggers = await harness.store.recordedTriggers()
        XCTAssertEqual(triggers.first?.trigger.commit, pushedCommit)
        XCTAssertEqual(triggers.first?.trigger.commitMessage, "Initial commit")

        let noPayload = Array("other=1".utf8)
        let ignored = await harness.ingress.handle(
            binding: "demo-github",
            headers: GitHubDeliveries.headers(event: "push", body: noPayload, contentType: "application/x-www-form-urlencoded"),
            body: noPayload)
        XCTAssertEqual(ignored.status, 200)
        XCTAssertEqual(ignored.reason, "unparseable payload: form body has no payload field")
    }
}
