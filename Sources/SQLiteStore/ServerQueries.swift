import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail] {
        try await pool.read { db in
            if let application {
                return try self.details(db, sql: """
                    SELECT \(Deployment.columns) FROM deployments WHERE application = ? ORDER BY seq DESC LIMIT ?
                    """, arguments: [application, limit])
            }
            return try self.details(db, sql: "SELECT \(Deployment.columns) FROM deployments ORDER BY seq DESC LIMIT ?",
                                    arguments: [limit])
        }
    }

    public func deployment(id: String) async throws -> DeploymentDetail? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Deployment.columns) FROM deployments WHERE id = ?",
                                             arguments: [id]) else { return nil }
            return try self.detail(db, Deployment(row: row))
        }
    }

    public func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)] {
        try await pool.read { db in
            var sql = "SELECT * FROM stage_logs WHERE deployment_id = ? AND id > ?"
            var args: StatementArguments = [deploymentID, afterID]
            if let stageIndex { sql += " AND stage_idx = ?"; args += [stageIndex] }
            sql += " ORDER BY id LIMIT 10000"
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                (id: row["id"], line: StageLogLine(deploymentID: row["deployment_id"], stageIndex: row["stage_idx"],
                                                   attempt: row["attempt"], at: date(row["at"])!, line: row["line"]))
            }
        }
    }

    public func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE deployments SET cancel_requested = 1, cancel_rollback = ?
                WHERE id = ? AND status IN ('PENDING', 'PLANNED', 'RUNNING', 'ROLLING_BACK')
                """, arguments: [rollback, deploymentID])
            return db.changesCount == 1
        }
    }

    public func addApproval(_ approval: Approval) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO approvals (deployment_id, stage_idx, approver, at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [approval.deploymentID, approval.stageIndex, approval.approver, approval.at.unix])
        }
    }

    public func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals WHERE deployment_id = ? AND stage_idx = ? ORDER BY at",
                             arguments: [deploymentID, stageIndex]).map {
                Approval(deploymentID: $0["deployment_id"], stageIndex: $0["stage_idx"], approver: $0["approver"],
                         at: date($0["at"])!)
            }
        }
    }

    public func invocations(deploymentID: String, stageIndex: Int?) async throws -> [InvocationRecord] {
        try await pool.read { db in
            var sql = "SELECT * FROM invocations WHERE deployment_id = ?"
            var args: StatementArguments = [deploymentID]
            if let stageIndex { sql += " AND stage_idx = ?"; args += [stageIndex] }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: args).map(InvocationRecord.init(row:))
        }
    }

    public func resolveCallback(tokenHash: String, status: String, payloadJSON: String?, now: Date) async throws -> CallbackOutcome {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT deployment_id, idx FROM stages WHERE callback_hash = ? AND status IN ('RUNNING', 'SUSPENDED')
                """, arguments: [tokenHash]) else { return .unknown }
            let id: String = row["deployment_id"], index: Int = row["idx"]
            if status == "heartbeat" { return .heartbeat(deploymentID: id) }
            var resume: [String: Any] = ["reason": "callback", "status": status]
            if let payloadJSON, let payload = try? JSONSerialization.jsonObject(with: Data(payloadJSON.utf8), options: [.fragmentsAllowed]) {
                resume["payload"] = payload
            }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: resume, options: [.sortedKeys]), as: UTF8.self)
            // Single use: the hash is gone once the callback is taken.
            try db.execute(sql: """
                UPDATE stages SET callback_hash = NULL, resume_json = ?,
                    resume_at = CASE WHEN status = 'SUSPENDED' THEN ? ELSE resume_at END
                WHERE deployment_id = ? AND idx = ?
                """, arguments: [text, now.unix, id, index])
            return .resolved(deploymentID: id)
        }
    }
}
