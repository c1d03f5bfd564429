import Foundation
import GantrySupport
import PostgresStore
import SQLiteStore
import Store
import XCTest

/// The rollback's own deadline in both stores: fixed once when a deployment starts rolling back, from the rollback
/// timeout planned with it; and stores written before it existed upgrade in place.
final class RollbackDeadlineStoreTests: XCTestCase {
    /// A committed, RUNNING deployment with the given rollback timeout (nil: the default); returns its id.
    static func runningDeployment(_ store: any Store, rollbackTimeout: Double? = nil) async throws -> String {
        let trigger = try await store.addTrigger(NewTrigger(repository: "demo", ref: "refs/heads/main", commit: "c1", kind: .manual))
        let id = UUID().uuidString.lowercased()
        var deployment = Deployment(id: id, application: "web", repository: "demo", appPath: "web", platform: nil,
                                    commit: "c1", runningCommit: nil, triggerKind: .manual, commitMessage: "m", author: "a",
                                    strategy: .pipeline, summary: "s")
        if let rollbackTimeout { deployment.rollbackTimeoutSeconds = rollbackTimeout }
        let stages = [Stage(deploymentID: id, index: 0, name: "WAIT"),
                      Stage(deploymentID: id, index: 1, name: "ROLLBACK", rollback: true)]
        try await store.commitPlan(PlanOutcome(triggerID: trigger, applications: [
            Application(name: "web", repository: "demo", path: "web", configFile: "web/app.gantry.yaml", kind: "App")],
            deployments: [DeploymentDetail(deployment: deployment, stages: stages)]))
        _ = try await store.activateNextDeployments(now: Date())
        return id
    }

    static func deployment(_ store: any Store, _ id: String) async throws -> Deployment {
        let detail = try await store.deployment(id: id)
        return try XCTUnwrap(detail).deployment
    }

    func testRollingBackFixesTheRollbackDeadlineOnce() async throws {
        try await forEachStore { backend in
            let stores = try await backend.open(handles: 2)
            let id = try await Self.runningDeployment(stores[0], rollbackTimeout: 90)
            let running = try await Self.deployment(stores[1], id)
            XCTAssertEqual(running.rollbackTimeoutSeconds, 90, backend.rawValue)
            XCTAssertNil(running.rollbackDeadline, backend.rawValue)
            XCTAssertEqual(running.phaseDeadline, running.deadline, backend.rawValue)

            let start = Date()
            try await stores[0].apply([.deployment(status: .rollingBack, reason: "stage WAIT failed")], to: id, now: start)
            let rolling = try await Self.deployment(stores[1], id)
            XCTAssertEqual(rolling.status, .rollingBack, backend.rawValue)
            let deadline = try XCTUnwrap(rolling.rollbackDeadline, backend.rawValue)
            XCTAssertEqual(deadline.timeIntervalSince(start), 90, accuracy: 0.001, backend.rawValue)
            XCTAssertEqual(rolling.phaseDeadline, deadline, backend.rawValue)

            // The same transition again (a restart, another replica) and the end of the deployment leave it alone.
            try await stores[1].apply([.deployment(status: .rollingBack, reason: "again")], to: id, now: start.addingTimeInterval(30))
            try await stores[0].apply([.deployment(status: .failure, reason: "rollback timed out")], to: id, now: start.addingTimeInterval(90))
            let done = try await Self.deployment(stores[1], id)
            XCTAssertEqual(done.status, .failure, backend.rawValue)
            XCTAssertEqual(done.rollbackDeadline, deadline, backend.rawValue)
        }
    }

    /// A store holding a deployment from before the rollback timeout: on open, the migration adds the columns, the
    /// deployment gets the default timeout and can roll back with a deadline.
    func testAStoreFromBeforeTheRollbackTimeoutUpgrades() async throws {
        try await forEachStore { backend in
            let reopen: () async throws -> any Store
            let id: String
            switch backend {
            case .sqlite:
                let path = try makeTempDir() + "/gantry.sqlite"
                id = try await Self.runningDeployment(try SQLiteStore(path: path))
                // The store just closed may still be checkpointing its WAL: wait for the lock rather than fail.
                try sh(["sqlite3", "-cmd", ".timeout 10000", path, """
                    ALTER TABLE deployments DROP COLUMN rollback_deadline;
                    ALTER TABLE deployments DROP COLUMN rollback_timeout_seconds;
                    DELETE FROM schema_migrations WHERE version = 'v4-rollback-timeout';
                    """])
                reopen = { try SQLiteStore(path: path) }
            case .postgres:
                let cluster = try PostgresCluster.get()
                let url = try cluster.makeDatabase()
                id = try await Self.runningDeployment(try await PostgresStore(url: url))
                try cluster.psql("""
                    ALTER TABLE deployments DROP COLUMN rollback_deadline, DROP COLUMN rollback_timeout_seconds;
                    DELETE FROM schema_migrations WHERE version = 'v4-rollback-timeout';
                    """, database: String(url.split(separator: "/").last!))
                reopen = { try await PostgresStore(url: url) }
            }
            let store = try await reopen()
            let upgraded = try await Self.deployment(store, id)
            XCTAssertEqual(upgraded.status, .running, backend.rawValue)
            XCTAssertEqual(upgraded.rollbackTimeoutSeconds, Deployment.defaultRollbackTimeoutSeconds, backend.rawValue)
            XCTAssertNil(upgraded.rollbackDeadline, backend.rawValue)
            let start = Date()
            try await store.apply([.deployment(status: .rollingBack, reason: "stage WAIT failed")], to: id, now: start)
            let rolling = try await Self.deployment(store, id)
            XCTAssertEqual(rolling.rollbackDeadline?.timeIntervalSince(start) ?? 0, Deployment.defaultRollbackTimeoutSeconds,
                           accuracy: 0.001, backend.rawValue)
        }
    }
}
