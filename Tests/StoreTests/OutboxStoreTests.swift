import Foundation
import GantrySupport
import Store
import XCTest

/// The outbox in both stores: rows written with the deployment change, claimed one per (target, deployment) in
/// order, leased, dead-lettered and re-queued.
final class OutboxStoreTests: XCTestCase {
    struct Everything: OutboxRouter {
        func targets(for event: DeploymentEvent) -> [String] { ["r"] }
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
