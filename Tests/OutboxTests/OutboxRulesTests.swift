import Foundation
import Outbox
import Store
import XCTest

/// piped's route filters, and the retry rule's backoff and Retry-After, on their own.
final class OutboxRulesTests: XCTestCase {
    func event(_ type: DeploymentEventType, app: String = "web", labels: [String: String] = [:]) -> DeploymentEvent {
        DeploymentEvent(type: type, at: Date(), deployment: .init(
            id: "d1", application: app, repository: "demo", commit: "c1", commitMessage: "m", author: "a",
            status: .running, statusReason: "", labels: labels))
    }

    func testRoutesFilterByEventAppAndLabelsAsPipedDoes() {
        let all = NotificationRoute(name: "all", receiver: "r")
        XCTAssertTrue(all.matches(event(.started)))

        let events = NotificationRoute(name: "e", receiver: "r", events: ["DEPLOYMENT_SUCCEEDED", "DEPLOYMENT_FAILED"])
        XCTAssertTrue(events.matches(event(.succeeded)))
        XCTAssertFalse(events.matches(event(.started)))
        let ignoreEvents = NotificationRoute(name: "ie", receiver: "r", ignoreEvents: ["DEPLOYMENT_TRIGGERED"])
        XCTAssertFalse(ignoreEvents.matches(event(.triggered)))
        XCTAssertTrue(ignoreEvents.matches(event(.planned)))

        let apps = NotificationRoute(name: "a", receiver: "r", apps: ["web"], ignoreApps: ["db"])
        XCTAssertTrue(apps.matches(event(.started, app: "web")))
        XCTAssertFalse(apps.matches(event(.started, app: "api")))
        let ignoreApps = NotificationRoute(name: "ia", receiver: "r", ignoreApps: ["db"])
        XCTAssertFalse(ignoreApps.matches(event(.started, app: "db")))
        XCTAssertTrue(ignoreApps.matches(event(.started, app: "web")))

        // Every label must be equal; any one ignored label equal drops it.
        let labels = NotificationRoute(name: "l", receiver: "r", labels: ["env": "dev", "team": "a"], ignoreLabels: ["tier": "test"])
        XCTAssertTrue(labels.matches(event(.started, labels: ["env": "dev", "team": "a", "x": "y"])))
        XCTAssertFalse(labels.matches(event(.started, labels: ["env": "dev"])))
        XCTAssertFalse(labels.matches(event(.started, labels: ["env": "prod", "team": "a"])))
        XCTAssertFalse(labels.matches(event(.started, labels: ["env": "dev", "team": "a", "tier": "test"])))
    }

    func testTargetsAreEachReceiverOnceAndCommitStatusesForStateChanges() {
        let targets = OutboxTargets(routes: [NotificationRoute(name: "a", receiver: "r"), NotificationRoute(name: "b", receiver: "r")],
                                    statusRepositories: ["demo"])
        XCTAssertEqual(targets.targets(for: event(.succeeded)), ["r", OutboxTargets.statusTarget(repository: "demo")])
        XCTAssertEqual(targets.targets(for: event(.approved)), ["r"])
        XCTAssertEqual(targets.targets(for: event(.triggerFailed)), ["r", OutboxTargets.statusTarget(repository: "demo")],
                       "a failed trigger fails the commit")
    }

    /// GitHub Deployments hear the events that move them; pull request comments go only where a host API is set.
    func testDeploymentAndCommentTargets() {
        let targets = OutboxTargets(routes: [], statusRepositories: ["demo"], deploymentRepositories: ["demo"],
                                    commentRepositories: ["demo"])
        let deployment = OutboxTargets.deploymentTarget(repository: "demo"), status = OutboxTargets.statusTarget(repository: "demo")
        XCTAssertEqual(targets.targets(for: event(.planned)), [status, deployment])
        XCTAssertEqual(targets.targets(for: event(.rollingBack)), [deployment])
        XCTAssertEqual(targets.targets(for: event(.waitApproval)), [])
        XCTAssertEqual(targets.targets(for: event(.triggerFailed)), [status])
        XCTAssertEqual(targets.commentTarget(repository: "demo"), OutboxTargets.pullRequestTarget(repository: "demo"))
        XCTAssertNil(targets.commentTarget(repository: "other"))
    }

    func testBackoffGrowsWithJitterAndHonoursRetryAfter() {
        let policy = OutboxRetry(maxAttempts: 4, initialInterval: 1, maxInterval: 10)
        XCTAssertEqual(policy.delay(afterAttempts: 1, retryAfter: nil, random: 1), 1)
        XCTAssertEqual(policy.delay(afterAttempts: 3, retryAfter: nil, random: 1), 4)
        XCTAssertEqual(policy.delay(afterAttempts: 3, retryAfter: nil, random: 0.5), 2)
        XCTAssertEqual(policy.delay(afterAttempts: 9, retryAfter: nil, random: 1), 10)
        XCTAssertEqual(policy.delay(afterAttempts: 1, retryAfter: 30, random: 1), 30)
        XCTAssertFalse(policy.deadLetters(afterAttempts: 3))
        XCTAssertTrue(policy.deadLetters(afterAttempts: 4))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        XCTAssertEqual(OutboxRetry.retryAfter("7", now: now), 7)
        XCTAssertEqual(OutboxRetry.retryAfter("Tue, 14 Nov 2023 22:13:40 GMT", now: now), 20)
        XCTAssertNil(OutboxRetry.retryAfter("soon", now: now))
    }
}
