import Foundation
import PostgresNIO
import Store

/// What the web console reads (ConsoleStore) on PostgreSQL: the same rules as the SQLite store's.
extension PostgresStore {
    public func latestDeployments(applications: [String]) async throws -> [String: Deployment] {
        guard !applications.isEmpty else { return [:] }
        return try await read { conn in
            // DISTINCT ON with the (application, seq) index: one probe per application.
            var out: [String: Deployment] = [:]
            for c in try await self.rows(conn, """
                SELECT DISTINCT ON (application) \(unescaped: Columns.deployment) FROM deployments
                WHERE application = ANY(\(applications)) ORDER BY application, seq DESC
                """) {
                let d = try Deployment(c)
                out[d.application] = d
            }
            return out
        }
    }

    public func deploymentOutcomes(from: Date, to: Date, applications: [String]?) async throws -> [DeploymentOutcome] {
        try await read { conn in
            let wanted = applications.map(Set.init)
            return try await self.rows(conn, """
                SELECT id, application, status, commit_time, created_at, completed_at FROM deployments
                WHERE status IN ('SUCCESS', 'FAILURE') AND completed_at >= \(from.epoch) AND completed_at < \(to.epoch)
                ORDER BY completed_at
                """).compactMap { c -> DeploymentOutcome? in
                let app = try c.str("application")
                if let wanted, !wanted.contains(app) { return nil }
                return DeploymentOutcome(id: try c.str("id"), application: app,
                                         status: try c.str("status") == "SUCCESS" ? .success : .failure,
                                         commitTime: try c.optDate("commit_time"), createdAt: try c.date("created_at"),
                                         completedAt: try c.date("completed_at"))
            }
        }
    }

    public func skipSuspendedStage(deploymentID: String, index: Int, message: String, now: Date) async throws -> Bool {
        try await write { conn in
            let skipped = try await self.one(conn, """
                UPDATE stages SET status = 'SKIPPED', message = \(message), completed_at = \(now.epoch), resume_at = NULL,
                    waiting_for = NULL, callback_hash = NULL
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND status = 'SUSPENDED' RETURNING idx
                """) != nil
            if skipped { try await self.notify(conn, .engine) }
            return skipped
        }
    }

    public func deploymentVersion(id: String) async throws -> String? {
        try await read { conn in
            guard let head = try await self.one(conn, "SELECT status, cancel_requested FROM deployments WHERE id = \(id)")
            else { return nil }
            let stages = try await self.rows(conn, """
                SELECT status || ':' || attempt || ':' || COALESCE(waiting_for, '') AS v FROM stages
                WHERE deployment_id = \(id) ORDER BY idx
                """).map { try $0.str("v") }.joined(separator: ",")
            let lastLog = try await self.one(conn, "SELECT COALESCE(MAX(id), 0) AS n FROM stage_logs WHERE deployment_id = \(id)")?
                .int("n") ?? 0
            return "\(try head.str("status"))|\(try head.int("cancel_requested"))|\(stages)|\(lastLog)"
        }
    }
}
