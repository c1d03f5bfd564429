import Foundation
import GantrySupport
import Store
import XCTest

/// Accounts, sessions, API tokens and the console's reads, on SQLite and on PostgreSQL from one source.
final class AccountStoreBehaviourTests: XCTestCase {
    func testUsersSessionsAndTokensBehaveAlikeOnBothStores() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            let now = Date()
            let created = try await store.createUser(UserRecord(name: "ana", passwordHash: "$2b$x", role: .editor, createdAt: now))
            let again = try await store.createUser(UserRecord(name: "ana", passwordHash: "other", role: .admin, createdAt: now))
            XCTAssertTrue(created, backend.rawValue); XCTAssertFalse(again, backend.rawValue)
            let ana = try await store.user(named: "ana")
            XCTAssertEqual(ana?.role, .editor, backend.rawValue)
            try await store.createSession(SessionRecord(tokenHash: "s1", user: "ana", role: .editor, createdAt: now,
                                                        expiresAt: now.addingTimeInterval(60)))
            let live = try await store.session(tokenHash: "s1", now: now)
            XCTAssertEqual(live?.user, "ana", backend.rawValue)
            let expired = try await store.session(tokenHash: "s1", now: now.addingTimeInterval(61))
            XCTAssertNil(expired, backend.rawValue)
            let id = try await store.createAPIToken(name: "ci", owner: "ana", role: .viewer, tokenHash: "t1", now: now)
            let mine = try await store.apiTokens(owner: "ana")
            XCTAssertEqual(mine.map(\.id), [id], backend.rawValue)
            let notTheirs = try await store.revokeAPIToken(id: id, owner: "bob", now: now)
            XCTAssertFalse(notTheirs, backend.rawValue)
            let deleted = try await store.deleteUser(named: "ana")
            XCTAssertTrue(deleted, backend.rawValue)
            let token = try await store.apiToken(tokenHash: "t1")
            XCTAssertNil(token, "\(backend): a deleted user's tokens are revoked")
            let session = try await store.session(tokenHash: "s1", now: now)
            XCTAssertNil(session, backend.rawValue)
        }
    }

    func testConsoleReadsLatestDeploymentsOutcomesAndSkip() async throws {
        try await forEachStore { backend in
            let store = try await backend.open()
            let id = try await StoreBehaviourTests.runningDeployment(store, app: "web", stages: ["WAIT_APPROVAL", "WAIT"])
            let latest = try await store.latestDeployments(applications: ["web", "none"])
            XCTAssertEqual(latest.keys.sorted(), ["web"], backend.rawValue)
            XCTAssertEqual(latest["web"]?.id, id, backend.rawValue)
            let versionBefore = try await store.deploymentVersion(id: id)
            guard let (leased, invocation) = try await store.leaseStage(StoreBehaviourTests.lease(
                try await store.deployment(id: id)!.stages[0], owner: "a/1")) else { return XCTFail("lease") }
            _ = try await store.finishAttempt(AttemptFinish(
                deploymentID: id, index: 0, attempt: leased.attempt, invocationID: invocation, status: .suspended,
                errorType: nil, message: "", resumeAt: nil, waitingFor: "approval", reportJSON: nil, now: Date()))
            let skipped = try await store.skipSuspendedStage(deploymentID: id, index: 0, message: "skipped by ana", now: Date())
            XCTAssertTrue(skipped, backend.rawValue)
            let versionAfter = try await store.deploymentVersion(id: id)
            XCTAssertNotEqual(versionBefore, versionAfter, backend.rawValue)
            try await store.apply([.deployment(status: .success, reason: "")], to: id, now: Date())
            let outcomes = try await store.deploymentOutcomes(from: Date().addingTimeInterval(-60), to: Date().addingTimeInterval(60),
                                                              applications: ["web"])
            XCTAssertEqual(outcomes.map(\.id), [id], backend.rawValue)
            XCTAssertEqual(outcomes.first?.status, .success, backend.rawValue)
        }
    }
}
