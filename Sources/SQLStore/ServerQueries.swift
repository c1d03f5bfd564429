import Foundation
import FunctionKit
import SQLKit
import Store

/// The API's calls. Cancel, approval and callback wake every replica's engine: the one running the
/// stage may be another.
extension SQLBackedStore {
    public func deployments(application: String?, limit: Int) async throws -> [DeploymentDetail] {
        try await read { db in
            if let application {
                return try await self.details(db, """
                    SELECT \(unsafeRaw: Columns.deployment) FROM deployments WHERE application = \(bind: application)
                    ORDER BY seq DESC LIMIT \(bind: limit)
                    """)
            }
            return try await self.details(db, """
                SELECT \(unsafeRaw: Columns.deployment) FROM deployments ORDER BY seq DESC LIMIT \(bind: limit)
                """)
        }
    }

    public func deployment(id: String) async throws -> DeploymentDetail? {
        try await read { db in
            try await self.details(db, "SELECT \(unsafeRaw: Columns.deployment) FROM deployments WHERE id = \(bind: id)").first
        }
    }

    public func logs(deploymentID: String, stageIndex: Int?, afterID: Int64) async throws -> [(id: Int64, line: StageLogLine)] {
        try await read { db in
            try await db.rows("""
                SELECT * FROM stage_logs WHERE deployment_id = \(bind: deploymentID) AND id > \(bind: Int(afterID))
                \(stageFilter(stageIndex)) ORDER BY id LIMIT 10000
                """).map { c in
                (id: Int64(try c.int("id")),
                 line: StageLogLine(deploymentID: try c.str("deployment_id"), stageIndex: try c.int("stage_idx"),
                                    attempt: try c.int("attempt"), at: try c.date("at"), line: try c.str("line")))
            }
        }
    }

    public func requestCancel(deploymentID: String, rollback: Bool) async throws -> Bool {
        try await write { db in
            let changed = try await db.one("""
                UPDATE deployments SET cancel_requested = 1, cancel_rollback = \(bind: rollback ? 1 : 0)
                WHERE id = \(bind: deploymentID) AND status IN ('PENDING', 'PLANNED', 'RUNNING', 'ROLLING_BACK') RETURNING id
                """) != nil
            if changed { try await self.notify(db, .deployment(deploymentID)) }
            return changed
        }
    }

    public func addApproval(_ approval: Approval) async throws {
        try await write { db in
            let added = try await db.one("""
                INSERT INTO approvals (deployment_id, stage_idx, approver, at)
                VALUES (\(bind: approval.deploymentID), \(bind: approval.stageIndex), \(bind: approval.approver), \(bind: approval.at.epoch))
                ON CONFLICT DO NOTHING RETURNING deployment_id
                """) != nil
            if added { try await self.enqueueOutbox(db, .approved, deploymentID: approval.deploymentID, now: approval.at) }
            try await self.notify(db, .deployment(approval.deploymentID))
        }
    }

    public func invocations(deploymentID: String, stageIndex: Int?) async throws -> [InvocationRecord] {
        try await read { db in
            try await db.rows("""
                SELECT \(unsafeRaw: Columns.invocation) FROM invocations WHERE deployment_id = \(bind: deploymentID)
                \(stageFilter(stageIndex)) ORDER BY id
                """).map(InvocationRecord.init)
        }
    }

    public func resolveCallback(tokenHash: String, status: String, payloadJSON: String?, now: Date) async throws -> CallbackOutcome {
        try await write { db in
            guard let row = try await db.one("""
                SELECT deployment_id, idx, status FROM stages WHERE callback_hash = \(bind: tokenHash)
                AND status IN ('RUNNING', 'SUSPENDED') \(self.flavor.lock())
                """) else { return .unknown }
            let id = try row.str("deployment_id"), index = try row.int("idx")
            let stageStatus = try row.value("status", as: StageStatus.self)
            if status == "heartbeat" { return .heartbeat(deploymentID: id) }
            let resume = FunctionEvent.ResumeInfo(reason: "callback", payload: payloadJSON.flatMap { try? JSONValue.decode($0) },
                                                  status: status)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let text = String(decoding: try encoder.encode(resume), as: UTF8.self)
            // A suspended stage is due at once; a running one finds the payload when its "suspended" result is applied.
            let dueNow = stageStatus == .suspended
            // Single use: the hash is gone once the callback is taken.
            try await db.exec("""
                UPDATE stages SET callback_hash = NULL, resume_json = \(bind: text),
                    resume_at = \(dueNow ? "\(bind: now.epoch)" : "resume_at" as SQLQueryString)
                WHERE deployment_id = \(bind: id) AND idx = \(bind: index)
                """)
            try await self.notify(db, .deployment(id))
            return .resolved(deploymentID: id)
        }
    }
}

/// `AND stage_idx = ?` when a stage is named, nothing otherwise.
func stageFilter(_ stageIndex: Int?) -> SQLQueryString {
    stageIndex.map { "AND stage_idx = \(bind: $0)" } ?? ""
}
