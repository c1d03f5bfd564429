import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func activateNextDeployments(now: Date) async throws -> [Deployment] {
        try await pool.write { db in
            var started: [Deployment] = []
            // Applications with planned work and nothing active: one active deployment per application.
            let apps = try String.fetchAll(db, sql: """
                SELECT DISTINCT application FROM deployments WHERE status IN ('PLANNED', 'PENDING')
                AND application NOT IN (SELECT application FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK'))
                """)
            for app in apps {
                let planned = try Row.fetchAll(db, sql: """
                    SELECT \(Deployment.columns) FROM deployments WHERE application = ? AND status IN ('PLANNED', 'PENDING')
                    ORDER BY seq DESC
                    """, arguments: [app]).map(Deployment.init(row:))
                guard var newest = planned.first else { continue }
                for older in planned.dropFirst() {
                    try db.execute(sql: """
                        UPDATE deployments SET status = 'CANCELLED', status_reason = ?, completed_at = ? WHERE id = ?
                        """, arguments: ["superseded by deployment \(newest.id)", now.unix, older.id])
                    try db.execute(sql: "UPDATE stages SET status = 'CANCELLED', completed_at = ? WHERE deployment_id = ?",
                                   arguments: [now.unix, older.id])
                }
                newest.status = .running
                newest.startedAt = now
                newest.deadline = now.addingTimeInterval(newest.timeoutSeconds)
                // The deployment's running commit is what is live now, not what was live when it was planned.
                let running = try String.fetchOne(db, sql: "SELECT running_commit FROM applications WHERE name = ?",
                                                  arguments: [app])
                newest.runningCommit = running ?? newest.runningCommit
                try db.execute(sql: """
                    UPDATE deployments SET status = 'RUNNING', started_at = ?, deadline = ?, running_commit = ? WHERE id = ?
                    """, arguments: [now.unix, newest.deadline!.unix, newest.runningCommit, newest.id])
                started.append(newest)
            }
            return started
        }
    }

    public func activeDeployments() async throws -> [DeploymentDetail] {
        try await pool.read { db in
            try self.details(db, sql: """
                SELECT \(Deployment.columns) FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK') ORDER BY seq
                """, arguments: [])
        }
    }

    public func updateDeployment(id: String, status: DeploymentStatus, reason: String, now: Date) async throws {
        try await pool.write { db in
            let completed: Double? = status.isFinal ? now.unix : nil
            try db.execute(sql: """
                UPDATE deployments SET status = ?, status_reason = ?, completed_at = COALESCE(?, completed_at),
                    rollback_deadline = CASE WHEN ? THEN COALESCE(rollback_deadline, ? + rollback_timeout_seconds)
                                             ELSE rollback_deadline END
                WHERE id = ?
                """, arguments: [status.rawValue, reason, completed, status == .rollingBack, now.unix, id])
            if status == .success {
                try db.execute(sql: """
                    UPDATE applications SET running_commit = (SELECT commit_hash FROM deployments WHERE id = ?),
                        updated_at = ? WHERE name = (SELECT application FROM deployments WHERE id = ?)
                    """, arguments: [id, now.unix, id])
            }
        }
    }

    public func leaseStage(_ r: LeaseRequest) async throws -> (stage: Stage, invocationID: Int64)? {
        try await pool.write { db in
            // started_at and deadline are fixed by the first attempt only: a restart never moves a timeout.
            // resume_json is handed to this invocation (read below, before it is cleared).
            // A RUNNING stage is free only when its lease expired (its replica died or stopped) or was released.
            guard let before = try Row.fetchOne(db, sql: """
                SELECT * FROM stages WHERE deployment_id = ? AND idx = ? AND attempt = ? AND status = ?
                AND (status != 'RUNNING' OR lease_owner IS NULL OR lease_expiry < ?)
                """, arguments: [r.deploymentID, r.index, r.expectedAttempt, r.expectedStatus.rawValue,
                                 r.now.unix]).map(Stage.init(row:))
            else { return nil }
            // Taking over: the invocation the lost lease belonged to ends here, and counts as a crash recovery.
            try db.execute(sql: """
                UPDATE invocations SET ended_at = ?, status = 'INTERRUPTED', error_type = ?,
                    message = 'the replica running this invocation stopped or lost its lease'
                WHERE deployment_id = ? AND stage_idx = ? AND ended_at IS NULL
                """, arguments: [r.now.unix, before.stopReason == "shutdown" ? "Shutdown" : "Crashed",
                                 r.deploymentID, r.index])
            let recovered = db.changesCount > 0 && before.stopReason != "shutdown" ? 1 : 0
            try db.execute(sql: """
                UPDATE stages SET status = 'RUNNING', attempt = attempt + ?, lease_owner = ?, lease_expiry = ?,
                    recoveries = recoveries + ?,
                    started_at = COALESCE(started_at, ?),
                    deadline = COALESCE(deadline, ? + COALESCE(timeout_seconds, ?)),
                    process_group = NULL, process_start = NULL, callback_hash = ?, resume_json = NULL,
                    stop_reason = NULL, error_type = NULL, function_name = ?, function_version = ?
                WHERE deployment_id = ? AND idx = ? AND attempt = ? AND status = ?
                """, arguments: [r.newAttempt ? 1 : 0, r.owner, r.leaseExpiry.unix, recovered, r.now.unix, r.now.unix,
                                 r.defaultStageTimeout, r.callbackHash, r.functionName, r.functionVersion,
                                 r.deploymentID, r.index, r.expectedAttempt, r.expectedStatus.rawValue])
            guard db.changesCount == 1,
                  var stage = try Row.fetchOne(db, sql: "SELECT * FROM stages WHERE deployment_id = ? AND idx = ?",
                                               arguments: [r.deploymentID, r.index]).map(Stage.init(row:)) else { return nil }
            stage.resumeJSON = before.resumeJSON
            try db.execute(sql: """
                INSERT INTO invocations (deployment_id, stage_idx, attempt, recovery, function_name, function_version, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.deploymentID, r.index, stage.attempt, stage.recoveries, r.functionName,
                                 r.functionVersion, r.now.unix])
            return (stage, db.lastInsertedRowID)
        }
    }

    public func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET process_group = ?, process_start = ? WHERE deployment_id = ? AND idx = ? AND attempt = ?
                """, arguments: [group, Int64(start), deploymentID, index, attempt])
        }
    }

    public func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String,
                               schema: Int?) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET checkpoint = ?, checkpoint_schema = ?
                WHERE deployment_id = ? AND idx = ? AND attempt = ? AND status = 'RUNNING'
                """, arguments: [checkpoint, schema, deploymentID, index, attempt])
            return db.changesCount == 1
        }
    }

    public func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool {
        try await pool.write { db in
            guard let current = try String.fetchOne(db, sql: """
                SELECT outputs FROM stages WHERE deployment_id = ? AND idx = ? AND attempt = ? AND status = 'RUNNING'
                """, arguments: [deploymentID, index, attempt]) else { return false }
            var merged = (try? JSONDecoder().decode([String: String].self, from: Data(current.utf8))) ?? [:]
            merged.merge(outputs) { _, new in new }
            let text = String(decoding: try JSONEncoder().encode(merged), as: UTF8.self)
            try db.execute(sql: "UPDATE stages SET outputs = ? WHERE deployment_id = ? AND idx = ?",
                           arguments: [text, deploymentID, index])
            return true
        }
    }

    public func appendLogs(_ lines: [StageLogLine]) async throws {
        guard !lines.isEmpty else { return }
        try await pool.write { db in
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line) VALUES (?, ?, ?, ?, ?)
                """)
            for l in lines {
                try stmt.execute(arguments: [l.deploymentID, l.stageIndex, l.attempt, l.at.unix, l.line])
            }
        }
    }

    public func finishAttempt(_ f: AttemptFinish) async throws -> Bool {
        try await pool.write { db in
            let waitsForCallback = f.status == .suspended && f.waitingFor == "callback"
            // A callback may arrive before the function's own "suspended" result is applied: then its
            // resume_json is already there and the stage is due at once.
            try db.execute(sql: """
                UPDATE stages SET status = ?, message = ?, error_type = ?, waiting_for = ?, lease_owner = NULL,
                    lease_expiry = NULL, process_group = NULL, process_start = NULL,
                    resume_at = CASE WHEN ? AND resume_json IS NOT NULL THEN ? ELSE ? END,
                    callback_hash = CASE WHEN ? THEN callback_hash ELSE NULL END,
                    completed_at = CASE WHEN ? THEN ? ELSE NULL END
                WHERE deployment_id = ? AND idx = ? AND attempt = ? AND status = 'RUNNING'
                """, arguments: [f.status.rawValue, f.message, f.errorType, f.waitingFor,
                                 waitsForCallback, f.now.unix, f.resumeAt?.unix, waitsForCallback,
                                 f.status.isFinal, f.now.unix, f.deploymentID, f.index, f.attempt])
            let applied = db.changesCount == 1
            if let line = f.logLine {
                try db.execute(sql: "INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line) VALUES (?, ?, ?, ?, ?)",
                               arguments: [f.deploymentID, f.index, f.attempt, f.now.unix, line])
            }
            try db.execute(sql: """
                UPDATE invocations SET ended_at = ?, status = ?, error_type = ?, message = ?, report_json = ? WHERE id = ?
                """, arguments: [f.now.unix, applied ? f.status.rawValue : "DISCARDED", f.errorType, f.message,
                                 f.reportJSON, f.invocationID])
            return applied
        }
    }

    public func markInterrupted(deploymentID: String, index: Int, now: Date) async throws -> Stage? {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE invocations SET ended_at = ?, status = 'INTERRUPTED',
                    error_type = (SELECT CASE WHEN stop_reason = 'shutdown' THEN 'Shutdown' ELSE 'Crashed' END
                                  FROM stages WHERE deployment_id = ? AND idx = ?),
                    message = 'the server stopped during this invocation'
                WHERE deployment_id = ? AND stage_idx = ? AND ended_at IS NULL
                """, arguments: [now.unix, deploymentID, index, deploymentID, index])
            try db.execute(sql: """
                UPDATE stages SET recoveries = recoveries + CASE WHEN stop_reason = 'shutdown' THEN 0 ELSE 1 END,
                    stop_reason = NULL, lease_owner = NULL, lease_expiry = NULL
                WHERE deployment_id = ? AND idx = ? AND status = 'RUNNING'
                """, arguments: [deploymentID, index])
            return try Row.fetchOne(db, sql: "SELECT * FROM stages WHERE deployment_id = ? AND idx = ?",
                                    arguments: [deploymentID, index]).map(Stage.init(row:))
        }
    }

    public func markShutdown(deploymentID: String, index: Int, attempt: Int) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET stop_reason = 'shutdown' WHERE deployment_id = ? AND idx = ? AND attempt = ?
                AND status = 'RUNNING'
                """, arguments: [deploymentID, index, attempt])
        }
    }

    public func releaseShutdownLease(deploymentID: String, index: Int, attempt: Int, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET lease_expiry = ? WHERE deployment_id = ? AND idx = ? AND attempt = ?
                AND status = 'RUNNING' AND stop_reason = 'shutdown'
                """, arguments: [now.unix, deploymentID, index, attempt])
        }
    }

    public func setStageStatus(deploymentID: String, index: Int, status: StageStatus, message: String, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE stages SET status = ?, message = ?, lease_owner = NULL, lease_expiry = NULL,
                    started_at = COALESCE(started_at, ?), completed_at = CASE WHEN ? THEN ? ELSE NULL END
                WHERE deployment_id = ? AND idx = ?
                AND status IN ('NOT_STARTED', 'RUNNING', 'SUSPENDED')
                """, arguments: [status.rawValue, message, now.unix, status.isFinal, now.unix, deploymentID, index])
        }
    }

    public func orphanedStages(replica: String, liveOwner: String, now: Date) async throws -> [Stage] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM stages WHERE status = 'RUNNING'
                AND (lease_owner IS NULL OR instr(lease_owner, '/') = 0
                     OR (substr(lease_owner, 1, length(?)) = ? AND lease_owner != ?))
                """, arguments: [replica + "/", replica + "/", liveOwner]).map(Stage.init(row:))
        }
    }
}
