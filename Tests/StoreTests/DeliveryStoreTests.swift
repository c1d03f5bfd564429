import Foundation
import GantrySupport
import Store
import XCTest

/// Both stores' side of ingress (run on SQLite and on PostgreSQL): several triggers commit with their delivery (or not at all), dedupe by
/// delivery id holds for them, and the reads behind the deliveries API, the metrics and the reconcile.
final class DeliveryStoreTests: XCTestCase {
    func trigger(_ commit: String?, ref: String = "refs/heads/main", kind: TriggerKind = .webhook) -> NewTrigger {
        NewTrigger(repository: "demo", ref: ref, commit: commit, kind: kind)
    }

    func testSeveralTriggersCommitWithTheirDeliveryAndDedupeTogether() async throws {
      try await forEachStore { backend in
        let store = try await backend.open()
        let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
        let delivery = NewDelivery(binding: "hook", deliveryID: "d-1", event: "repo:refs_changed", verdict: .accepted,
                                   reason: "two pushes", triggers: [trigger(a), trigger(b)])
        let first = try await store.ingest(delivery)
        guard case .recorded(let id?) = first else { return XCTFail("\(first)") }
        let again = try await store.ingest(delivery)
        XCTAssertEqual(again, .duplicate)

        let pending = try await store.pendingTriggers(limit: 10)
        XCTAssertEqual(pending.map(\.trigger.commit), [a, b])
        XCTAssertEqual(pending.first?.id, id)
        let depth = try await store.pendingTriggerCount()
        XCTAssertEqual(depth, 2)
        let last = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/main")
        XCTAssertEqual(last, b, backend.rawValue)
      }
    }

    func testRecentDeliveriesNewestFirstAndLastTriggeredCommitSkipsHeadResolves() async throws {
      try await forEachStore { backend in
        let store = try await backend.open()
        let a = String(repeating: "a", count: 40)
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "1", event: "ping", verdict: .ignored,
                                               reason: "ping", trigger: nil))
        _ = try await store.ingest(NewDelivery(binding: "other", deliveryID: "2", event: "push", verdict: .accepted,
                                               reason: "push", trigger: trigger(a)))
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "3", event: "push", verdict: .accepted,
                                               reason: "push to main", trigger: trigger(a)))
        _ = try await store.addTrigger(trigger(nil, kind: .manual))   // "resolve the head": no commit to compare

        let recent = try await store.recentDeliveries(binding: "hook", limit: 10)
        XCTAssertEqual(recent.map(\.deliveryID), ["3", "1"])
        XCTAssertEqual(recent.map(\.verdict), [.accepted, .ignored])
        XCTAssertNotNil(recent.first?.triggerID)
        XCTAssertNil(recent.last?.triggerID)
        let limited = try await store.recentDeliveries(binding: "hook", limit: 1)
        XCTAssertEqual(limited.map(\.deliveryID), ["3"])

        let last = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/main")
        XCTAssertEqual(last, a)
        let none = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/other")
        XCTAssertNil(none, backend.rawValue)
      }
    }

    /// A pull request trigger keeps what it previews through the store, and is not the branch's last push.
    func testAPullRequestTriggerKeepsItsPullRequest() async throws {
      try await forEachStore { backend in
        let store = try await backend.open()
        let head = String(repeating: "c", count: 40)
        let pullRequest = PullRequestRef(number: 12, baseRef: "refs/heads/main", headRef: "refs/pull/12/head",
                                         title: "Bump \"web\" to 1.2 ✓", url: "https://github.example/o/r/pull/12")
        let sent = NewTrigger(repository: "demo", ref: "refs/pull/12/head", commit: head, kind: .pullRequest,
                              commitMessage: pullRequest.title, author: "contributor", pullRequest: pullRequest)
        _ = try await store.ingest(NewDelivery(binding: "hook", deliveryID: "pr-1", event: "pull_request", verdict: .accepted,
                                               reason: "pull request #12 opened", trigger: sent))
        _ = try await store.addTrigger(trigger(nil, kind: .manual))
        let pending = try await store.pendingTriggers(limit: 10).map(\.trigger)
        XCTAssertEqual(pending.first, sent, backend.rawValue)
        XCTAssertNil(pending.last?.pullRequest, backend.rawValue)
        let last = try await store.lastTriggeredCommit(repository: "demo", ref: "refs/heads/main")
        XCTAssertNil(last, backend.rawValue)
      }
    }
}
