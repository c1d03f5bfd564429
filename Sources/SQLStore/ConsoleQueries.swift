import Foundation
import SQLKit
import Store

/// What the web console reads and does (ConsoleStore).
extension SQLBackedStore {
    public func latestDeployments(applications: [String]) async throws -> [String: Deployment] {
        guard !applications.isEmpty else { return [:] }
        return try await read { db in
            // One probe of the (application, seq) index per application, not a scan of the whole history.
            var out: [String: Deployment] = [:]
            for c in try await db.rows("""
                SELECT \(unsafeRaw: Columns.deployment) FROM deployments AS d
                WHERE application IN (\(binds: applications))
                AND seq = (SELECT MAX(seq) FROM deployments WHERE application = d.application)
                """) {
                let d = try Deployment(c)
                out[d.application] = d
            }
            return out
        }
    }

    public func deploymentOutcomes(from: Date, to: Date, applications: [String]?) async throws -> [DeploymentOutcome] {
        try await read { db in
            let wanted = applications.map(Set.init)
            return try await db.rows("""
                SELECT id, application, status, commit_time, created_at, completed_at FROM deployments
                WHERE status IN ('SUCCESS', 'FAILURE') AND completed_at >= \(bind: from.epoch) AND completed_at < \(bind: to.epoch)
                ORDER BY completed_at
                """).compactMap { c -> DeploymentOutcome? in
                let app = try c.str("application")
                if let wanted, !wanted.contains(app) { return nil }
                return DeploymentOutcome(id: try c.str("id"), application: app,
                                         status: try c.value("status", as: DeploymentStatus.self),
                                         commitTime: try c.optDate("commit_time"), createdAt: try c.date("created_at"),
                                         completedAt: try c.date("completed_at"))
            }
        }
    }

    public func skipSuspendedStage(deploymentID: String, index: Int, message: String, now: Date) async throws -> Bool {
        try await write { db in
            let skipped = try await db.one("""
                UPDATE stages SET status = 'SKIPPED', message = \(bind: message), completed_at = \(bind: now.epoch), resume_at = NULL,
                    waiting_for = NULL, callback_hash = NULL
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND status = 'SUSPENDED' RETURNING idx
                """) != nil
            if skipped { try await self.notify(db, .deployment(deploymentID)) }
            return skipped
        }
    }

    public func deploymentVersion(id: String) async throws -> String? {
        try await read { db -> String? in
            guard let head = try await db.one("SELECT status, cancel_requested FROM deployments WHERE id = \(bind: id)")
            else { return nil }
            let stages = try await db.rows("""
                SELECT status || ':' || attempt || ':' || COALESCE(waiting_for, '') AS v FROM stages
                WHERE deployment_id = \(bind: id) ORDER BY idx
                """).map { try $0.str("v") }.joined(separator: ",")
            let lastLog = try await db.one("SELECT COALESCE(MAX(id), 0) AS n FROM stage_logs WHERE deployment_id = \(bind: id)")?
                .int("n") ?? 0
            return "\(try head.str("status"))|\(try head.int("cancel_requested"))|\(stages)|\(lastLog)"
        }
    }
}
