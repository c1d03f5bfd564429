import Foundation
import PostgresNIO
import Store

/// The API's calls on PostgreSQL. Cancel, approval and callback wake every replica's engine: the one running the
/// stage may be another.
extension PostgresStore {
    public func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail] {
        try await read { conn in
            if let application {
                return try await self.details(conn, """
                    SELECT \(unescaped: Columns.deployment) FROM deployments WHERE application = \(application)
                    ORDER BY seq DESC LIMIT \(limit)
                    """)
            }
            return try await self.details(conn, """
                SELECT \(unescaped: Columns.deployment) FROM deployments ORDER BY seq DESC LIMIT \(limit)
                """)
        }
    }

    public func deployment(id: String) async throws -> DeploymentDetail? {
        try await read { conn in
            try await self.details(conn, "SELECT \(unescaped: Columns.deployment) FROM deployments WHERE id = \(id)").first
        }
    }

    public func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)] {
        try await read { conn in
            try await self.rows(conn, """
                SELECT * FROM stage_logs WHERE deployment_id = \(deploymentID) AND id > \(Int(afterID))
                AND (\(stageIndex)::bigint IS NULL OR stage_idx = \(stageIndex)) ORDER BY id LIMIT 10000
                """).map { c in
                (id: Int64(try c.int("id")),
                 line: StageLogLine(deploymentID: try c.str("deployment_id"), stageIndex: try c.int("stage_idx"),
                                    attempt: try c.int("attempt"), at: try c.date("at"), line: try c.str("line")))
            }
        }
    }

    public func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool {
        try await write { conn in
            let changed = try await self.one(conn, """
                UPDATE deployments SET cancel_requested = 1, cancel_rollback = \(rollback ? 1 : 0)
                WHERE id = \(deploymentID) AND status IN ('PENDING', 'PLANNED', 'RUNNING', 'ROLLING_BACK') RETURNING id
                """) != nil
            if changed { try await self.notify(conn, .engine) }
            return changed
        }
    }

    public func addApproval(_ approval: Approval) async throws {
        try await write { conn in
            try await self.exec(conn, """
                INSERT INTO approvals (deployment_id, stage_idx, approver, at)
                VALUES (\(approval.deploymentID), \(approval.stageIndex), \(approval.approver), \(approval.at.epoch))
                ON CONFLICT DO NOTHING
                """)
            try await self.notify(conn, .engine)
        }
    }

    public func invocations(deploymentID: String, stageIndex: Int?) async throws -> [InvocationRecord] {
        try await read { conn in
            try await self.rows(conn, """
                SELECT \(unescaped: Columns.invocation) FROM invocations WHERE deployment_id = \(deploymentID)
                AND (\(stageIndex)::bigint IS NULL OR stage_idx = \(stageIndex)) ORDER BY id
                """).map(InvocationRecord.init)
        }
    }

    public func resolveCallback(tokenHash: String, status: String, payloadJSON: String?, now: Date) async throws -> CallbackOutcome {
        try await write { conn in
            guard let row = try await self.one(conn, """
                SELECT deployment_id, idx FROM stages WHERE callback_hash = \(tokenHash) AND status IN ('RUNNING', 'SUSPENDED')
                FOR UPDATE
                """) else { return .unknown }
            let id = try row.str("deployment_id"), index = try row.int("idx")
            if status == "heartbeat" { return .heartbeat(deploymentID: id) }
            var resume: [String: Any] = ["reason": "callback", "status": status]
            if let payloadJSON, let payload = try? JSONSerialization.jsonObject(with: Data(payloadJSON.utf8), options: [.fragmentsAllowed]) {
                resume["payload"] = payload
            }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: resume, options: [.sortedKeys]), as: UTF8.self)
            // Single use: the hash is gone once the callback is taken.
            try await self.exec(conn, """
                UPDATE stages SET callback_hash = NULL, resume_json = \(text),
                    resume_at = CASE WHEN status = 'SUSPENDED' THEN \(now.epoch) ELSE resume_at END
                WHERE deployment_id = \(id) AND idx = \(index)
                """)
            try await self.notify(conn, .engine)
            return .resolved(deploymentID: id)
        }
    }
}
