import Foundation
import GantrySupport
import Store
import XCTest

/// The outbox in both stores: rows written with the deployment change, claimed one per (target, deployment) in
/// order, leased, dead-lettered and re-queued.
final class OutboxStoreTests: XCTestCase {
    struct Everything: OutboxRouter {
        func targets(for event: DeploymentEvent) -> [String] { ["r"] }
        func commentTarget(repository: String) -> String? { repository == "demo" ? "c" : nil }
    }

    /// A plan's preview comment is a row of the plan's transaction, paired per pull request; a repository without
    /// a Git host API gets none. What a receiver remembers is kept per target and key, and overwritten.
    func testPreviewCommentsAndMemos() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            store.outbox.configure(router: Everything(), onEnqueue: {})
            let now = Date()
            for (trigger, repository, number) in [(Int64(1), "demo", 7), (2, "demo", 7), (3, "other", 7), (4, "demo", 8)] {
                try await store.commitPlan(PlanOutcome(
                    triggerID: trigger, applications: [], deployments: [], note: "preview",
                    previewComment: PreviewComment(at: now, repository: repository, pullRequest: number, head: "abc",
                                                   markdown: "preview \(trigger)")))
            }
            let rows = try await store.outboxMessages(status: .pending, limit: 10).reversed().map { $0 }
            XCTAssertEqual(rows.map(\.deploymentID), ["pr:demo#7", "pr:demo#7", "pr:demo#8"], backend.rawValue)
            XCTAssertEqual(rows.map(\.seq), [1, 2, 1], backend.rawValue)
            XCTAssertEqual(Set(rows.map(\.target)), ["c"], backend.rawValue)
            XCTAssertTrue(rows[1].payload.contains("preview 2") && rows[1].payload.contains("PLAN_PREVIEW"), rows[1].payload)

            let missing = try await store.outboxMemo(target: "c", key: "pr:7")
            XCTAssertNil(missing, backend.rawValue)
            try await store.setOutboxMemo(target: "c", key: "pr:7", value: "101", now: now)
            try await store.setOutboxMemo(target: "c", key: "pr:7", value: "102", now: now)
            try await store.setOutboxMemo(target: "d", key: "pr:7", value: "900", now: now)
            let kept = try await store.outboxMemo(target: "c", key: "pr:7")
            XCTAssertEqual(kept, "102", backend.rawValue)
        }
    }

    func testRowsAreWrittenWithTheChangeAndSentInOrderPerPair() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            store.outbox.configure(router: Everything(), onEnqueue: {})
            let id = try await RollbackDeadlineStoreTests.runningDeployment(store)
            let rows = try await store.outboxMessages(status: .pending, limit: 10).reversed().map { $0 }
            XCTAssertEqual(rows.map(\.seq), [1, 2, 3], backend.rawValue)
            XCTAssertEqual(rows.map(\.deploymentID), [id, id, id], backend.rawValue)
            XCTAssertEqual(Set(rows.map(\.idempotencyKey)).count, 3, backend.rawValue)
            XCTAssertTrue(rows[2].payload.contains("DEPLOYMENT_STARTED"), rows[2].payload)

            // Only the first of the pair is due; its lease hides it from a second claim.
            let now = Date()
            let first = try await store.claimOutbox(now: now, limit: 10, lease: 30)
            XCTAssertEqual(first.map(\.id), [rows[0].id], backend.rawValue)
            let none = try await store.claimOutbox(now: now, limit: 10, lease: 30)
            XCTAssertEqual(none.count, 0, backend.rawValue)
            try await store.recordOutboxAttempts([(rows[0].id, .sent)], now: now)
            let second = try await store.claimOutbox(now: now, limit: 10, lease: 30)
            XCTAssertEqual(second.map(\.id), [rows[1].id], backend.rawValue)

            // Dead-lettered: the next one of the pair goes on, and retry brings it back.
            try await store.recordOutboxAttempts([(rows[1].id, .failed(error: "HTTP 503", retryAt: now, deadLetter: true))], now: now)
            let third = try await store.claimOutbox(now: now, limit: 10, lease: 30)
            XCTAssertEqual(third.map(\.id), [rows[2].id], backend.rawValue)
            let failed = try await store.outboxMessages(status: .failed, limit: 10)
            XCTAssertEqual(failed.map(\.id), [rows[1].id], backend.rawValue)
            XCTAssertEqual(failed.first?.lastError, "HTTP 503", backend.rawValue)
            XCTAssertEqual(failed.first?.attempts, 1, backend.rawValue)
            let retried = try await store.retryOutboxMessage(id: rows[1].id, now: now)
            XCTAssertTrue(retried, backend.rawValue)
            let again = try await store.retryOutboxMessage(id: rows[1].id, now: now)
            XCTAssertFalse(again, backend.rawValue)
            let pending = try await store.outboxMessages(status: .pending, limit: 10)
            XCTAssertEqual(Set(pending.map(\.id)), [rows[1].id, rows[2].id], backend.rawValue)
        }
    }

    /// A sender that dies between sending and recording leaves its row claimed: it is due again once the lease ends,
    /// with the same idempotency key, and not before.
    func testAClaimNeverRecordedIsDueAgainAfterItsLease() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            store.outbox.configure(router: Everything(), onEnqueue: {})
            _ = try await RollbackDeadlineStoreTests.runningDeployment(store)
            let now = Date()
            let claimed = try await store.claimOutbox(now: now, limit: 1, lease: 5)
            let during = try await store.claimOutbox(now: now.addingTimeInterval(4), limit: 10, lease: 5)
            XCTAssertEqual(during.count, 0, backend.rawValue)
            let next = try await store.nextOutboxAttempt()
            XCTAssertEqual(next?.timeIntervalSince1970 ?? 0, now.addingTimeInterval(5).timeIntervalSince1970, accuracy: 0.001)
            let again = try await store.claimOutbox(now: now.addingTimeInterval(6), limit: 10, lease: 5)
            XCTAssertEqual(again.map(\.idempotencyKey), claimed.map(\.idempotencyKey), backend.rawValue)
        }
    }
}
