import Foundation
import GantrySupport
import SQLiteStore
import SQLStore
import Store
import XCTest

/// A SQLite store written by the release before the schema was shared (GRDB's migration list, up to
/// v6-rollback-timeout) opens, takes the shared schema's missing parts and keeps running its deployment.
/// Fixtures/sqlite-store-v6.sql is that release's `gantry demo` store after one push, dumped by sqlite3.
final class StoreUpgradeTests: XCTestCase {
    static let deploymentID = "458db5bc-39dd-4475-a467-df313d388e65"

    func testAStoreOfThePreviousReleaseOpensUpgradesAndRuns() async throws {
        let path = try Self.previousReleaseStore()
        let store = try SQLiteStore(path: path)
        let detail = try await store.deployment(id: Self.deploymentID)
        XCTAssertEqual(detail?.deployment.status, .running)
        XCTAssertEqual(detail?.stages.map(\.status), [.success, .suspended, .notStarted, .notStarted, .notStarted])
        XCTAssertEqual(try sql(path, "SELECT version FROM schema_migrations ORDER BY version")
                        .split(separator: "\n").map(String.init), StoreSchema.migrations.map(\.version))
        XCTAssertEqual(try sql(path, "SELECT name FROM sqlite_master WHERE name = 'grdb_migrations'"), "")

        // The deployment goes on: its suspended WAIT is leased and finished, with the invocation recorded.
        let now = Date()
        let lease = try await store.leaseStage(LeaseRequest(
            deploymentID: Self.deploymentID, index: 1, expectedAttempt: detail!.stages[1].attempt, expectedStatus: .suspended,
            newAttempt: false, owner: "upgrade-test/1", leaseExpiry: now.addingTimeInterval(30), functionName: "wait",
            functionVersion: "1", callbackHash: nil, now: now))
        let (stage, invocation) = try XCTUnwrap(lease)
        XCTAssertEqual(stage.status, .running)
        let finished = try await store.finishAttempt(AttemptFinish(
            deploymentID: Self.deploymentID, index: 1, attempt: stage.attempt, invocationID: invocation, status: .success,
            errorType: nil, message: "waited", resumeAt: nil, waitingFor: nil, reportJSON: nil, logLine: nil, now: now)).applied
        XCTAssertTrue(finished)
        let after = try await store.deployment(id: Self.deploymentID)
        XCTAssertEqual(after?.stages[1].status, .success)

        // Opening it again changes nothing.
        _ = try SQLiteStore(path: path)
        XCTAssertEqual(try sql(path, "SELECT COUNT(*) FROM schema_migrations"), String(StoreSchema.migrations.count))
    }

    /// Older than the last GRDB migration: refused with what to do, and the file is left as it was.
    func testAnOlderStoreIsRefusedWithWhatToDo() throws {
        let path = try Self.previousReleaseStore()
        _ = try sh(["sqlite3", "-cmd", ".timeout 10000", path, "DELETE FROM grdb_migrations WHERE identifier = 'v6-rollback-timeout'"])
        XCTAssertThrowsError(try SQLiteStore(path: path)) { error in
            XCTAssertTrue("\(error)".contains("made by an older Gantry"), "\(error)")
            XCTAssertTrue("\(error)".contains("v5-replicas"), "\(error)")
        }
        XCTAssertEqual(try sql(path, "SELECT COUNT(*) FROM grdb_migrations"), "5")
    }

    /// What the sqlite3 shell prints for `query`, without the last newline.
    private func sql(_ path: String, _ query: String) throws -> String {
        try sh(["sqlite3", "-cmd", ".timeout 10000", path, query]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func previousReleaseStore() throws -> String {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sqlite-store-v6.sql").path
        let path = try makeTempDir() + "/gantry.sqlite"
        _ = try sh(["sqlite3", path, ".read \(fixture)"])
        return path
    }
}
