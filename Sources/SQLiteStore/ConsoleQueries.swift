import Foundation
import GRDB
import Store

/// Reads and the one action of the web console (ConsoleStore).
extension SQLiteStore {
    public func latestDeployments(applications: [String]) async throws -> [String: Deployment] {
        try await pool.read { db in
            var out: [String: Deployment] = [:]
            // One indexed probe (deployments_app) per application, not a scan of the whole history.
            let statement = try db.cachedStatement(sql: """
                SELECT \(Deployment.columns) FROM deployments WHERE application = ? ORDER BY seq DESC LIMIT 1
                """)
            for name in applications {
                if let row = try Row.fetchOne(statement, arguments: [name]) { out[name] = Deployment(row: row) }
            }
            return out
        }
    }

    public func deploymentOutcomes(from: Date, to: Date, applications: [String]?) async throws -> [DeploymentOutcome] {
        try await pool.read { db in
            // A year of history is ~10,000 rows: a cursor and columns by position keep this a few milliseconds.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, application, status, commit_time, created_at, completed_at FROM deployments
                WHERE status IN ('SUCCESS', 'FAILURE') AND completed_at >= ? AND completed_at < ?
                ORDER BY completed_at
                """, arguments: [from.unix, to.unix])
            let wanted = applications.map(Set.init)
            var out: [DeploymentOutcome] = []
            while let row = try rows.next() {
                let app: String = row[1]
                if let wanted, !wanted.contains(app) { continue }
                let status: String = row[2]
                out.append(DeploymentOutcome(id: row[0], application: app, status: status == "SUCCESS" ? .success : .failure,
                                             commitTime: date(row[3]), createdAt: date(row[4])!, completedAt: date(row[5])!))
            }
            return out
        }
    }

    public func skipSuspendedStage(deploymentID: String, index: Int, message: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET status = 'SKIPPED', message = ?, completed_at = ?, resume_at = NULL, waiting_for = NULL,
                    callback_hash = NULL
                WHERE deployment_id = ? AND idx = ? AND status = 'SUSPENDED'
                """, arguments: [message, now.unix, deploymentID, index])
            return db.changesCount == 1
        }
    }

    public func deploymentVersion(id: String) async throws -> String? {
        try await pool.read { db in
            guard let head = try Row.fetchOne(db, sql: "SELECT status, cancel_requested FROM deployments WHERE id = ?",
                                              arguments: [id]) else { return nil }
            let stages = try String.fetchAll(db, sql: """
                SELECT status || ':' || attempt || ':' || COALESCE(waiting_for, '') FROM stages
                WHERE deployment_id = ? ORDER BY idx
                """, arguments: [id]).joined(separator: ",")
            let lastLog = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM stage_logs WHERE deployment_id = ?",
                                             arguments: [id]) ?? 0
            let status: String = head["status"], cancel: Int = head["cancel_requested"]
            return "\(status)|\(cancel)|\(stages)|\(lastLog)"
        }
    }
}
