import Foundation
import PostgresNIO
import Store

/// The engine's calls on PostgreSQL. Every stage change is fenced by attempt (and status), so a replica acting on
/// stale rows or a lost lease changes nothing; leasing skips rows another replica is leasing right now.
extension PostgresStore {
    public func activateNextDeployments(now: Date) async throws -> [Deployment] {
        try await write { conn in
            // Replicas activate one at a time; the partial unique index deployments_one_active is the hard rule.
            try await self.exec(conn, "SELECT pg_advisory_xact_lock(74280003)")
            var started: [Deployment] = []
            let apps = try await self.rows(conn, """
                SELECT DISTINCT application FROM deployments WHERE status IN ('PLANNED', 'PENDING')
                AND application NOT IN (SELECT application FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK'))
                """).map { try $0.str("application") }
            for app in apps {
                let planned = try await self.rows(conn, """
                    SELECT \(unescaped: Columns.deployment) FROM deployments
                    WHERE application = \(app) AND status IN ('PLANNED', 'PENDING') ORDER BY seq DESC
                    """).map(Deployment.init)
                guard var newest = planned.first else { continue }
                for older in planned.dropFirst() {
                    try await self.exec(conn, """
                        UPDATE deployments SET status = 'CANCELLED', status_reason = \("superseded by deployment \(newest.id)"),
                            completed_at = \(now.epoch) WHERE id = \(older.id)
                        """)
                    try await self.exec(conn, """
                        UPDATE stages SET status = 'CANCELLED', completed_at = \(now.epoch) WHERE deployment_id = \(older.id)
                        """)
                }
                newest.status = .running
                newest.startedAt = now
                newest.deadline = now.addingTimeInterval(newest.timeoutSeconds)
                // The deployment's running commit is what is live now, not what was live when it was planned.
                let running = try await self.one(conn, "SELECT running_commit FROM applications WHERE name = \(app)")?
                    .optStr("running_commit")
                newest.runningCommit = running ?? newest.runningCommit
                try await self.exec(conn, """
                    UPDATE deployments SET status = 'RUNNING', started_at = \(now.epoch), deadline = \(newest.deadline!.epoch),
                        running_commit = \(newest.runningCommit) WHERE id = \(newest.id)
                    """)
                started.append(newest)
            }
            // Its first stage may be another replica's preferred work.
            if !started.isEmpty { try await self.notify(conn, .engine) }
            return started
        }
    }

    public func activeDeployments() async throws -> [DeploymentDetail] {
        try await read { conn in
            try await self.details(conn, """
                SELECT \(unescaped: Columns.deployment) FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK') ORDER BY seq
                """)
        }
    }

    public func updateDeployment(id: String, status: DeploymentStatus, reason: String, now: Date) async throws {
        try await write { conn in
            let completed: Double? = status.isFinal ? now.epoch : nil
            try await self.exec(conn, """
                UPDATE deployments SET status = \(status.rawValue), status_reason = \(reason),
                    completed_at = COALESCE(\(completed), completed_at),
                    rollback_deadline = CASE WHEN \(status == .rollingBack)
                                             THEN COALESCE(rollback_deadline, \(now.epoch) + rollback_timeout_seconds)
                                             ELSE rollback_deadline END
                WHERE id = \(id)
                """)
            if status == .success {
                try await self.exec(conn, """
                    UPDATE applications SET running_commit = (SELECT commit_hash FROM deployments WHERE id = \(id)),
                        updated_at = \(now.epoch) WHERE name = (SELECT application FROM deployments WHERE id = \(id))
                    """)
            }
            // Another planned deployment of this application may start now, on any replica.
            if status.isFinal { try await self.notify(conn, .engine) }
        }
    }

    public func leaseStage(_ r: LeaseRequest) async throws -> (stage: Stage, invocationID: Int64)? {
        try await write { conn in
            // SKIP LOCKED: a replica leasing the same stage right now wins; this one moves on without waiting.
            // A RUNNING stage is free only when its lease expired (its replica died or stopped) or was released.
            guard let before = try await self.one(conn, """
                SELECT \(unescaped: Columns.stage) FROM stages
                WHERE deployment_id = \(r.deploymentID) AND idx = \(r.index) AND attempt = \(r.expectedAttempt)
                AND status = \(r.expectedStatus.rawValue)
                AND (status <> 'RUNNING' OR lease_owner IS NULL OR lease_expiry < \(r.now.epoch))
                FOR UPDATE SKIP LOCKED
                """).map(Stage.init) else { return nil }
            // Taking over: the invocation the lost lease belonged to ends here, and counts as a crash recovery.
            let closed = try await self.rows(conn, """
                UPDATE invocations SET ended_at = \(r.now.epoch), status = 'INTERRUPTED',
                    error_type = \(before.stopReason == "shutdown" ? "Shutdown" : "Crashed"),
                    message = 'the replica running this invocation stopped or lost its lease'
                WHERE deployment_id = \(r.deploymentID) AND stage_idx = \(r.index) AND ended_at IS NULL RETURNING id
                """)
            let recovered = !closed.isEmpty && before.stopReason != "shutdown" ? 1 : 0
            // started_at and deadline are fixed by the first attempt only: a restart never moves a timeout.
            guard var stage = try await self.one(conn, """
                UPDATE stages SET status = 'RUNNING', attempt = attempt + \(r.newAttempt ? 1 : 0), lease_owner = \(r.owner),
                    lease_expiry = \(r.leaseExpiry.epoch), recoveries = recoveries + \(recovered),
                    started_at = COALESCE(started_at, \(r.now.epoch)),
                    deadline = COALESCE(deadline, \(r.now.epoch) + COALESCE(timeout_seconds, \(r.defaultStageTimeout))),
                    process_group = NULL, process_start = NULL, callback_hash = \(r.callbackHash), resume_json = NULL,
                    stop_reason = NULL, error_type = NULL, function_name = \(r.functionName),
                    function_version = \(r.functionVersion)
                WHERE deployment_id = \(r.deploymentID) AND idx = \(r.index)
                RETURNING \(unescaped: Columns.stage)
                """).map(Stage.init) else { return nil }
            stage.resumeJSON = before.resumeJSON
            let invocation = try await self.one(conn, """
                INSERT INTO invocations (deployment_id, stage_idx, attempt, recovery, function_name, function_version, started_at)
                VALUES (\(r.deploymentID), \(r.index), \(stage.attempt), \(stage.recoveries), \(r.functionName),
                        \(r.functionVersion), \(r.now.epoch))
                RETURNING id
                """)
            return (stage, Int64(try invocation!.int("id")))
        }
    }

    public func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws {
        try await write { conn in
            try await self.exec(conn, """
                UPDATE stages SET process_group = \(Int(group)), process_start = \(Int(Int64(bitPattern: start)))
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND attempt = \(attempt)
                """)
        }
    }

    public func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String,
                               schema: Int?) async throws -> Bool {
        try await write { conn in
            try await self.one(conn, """
                UPDATE stages SET checkpoint = \(checkpoint), checkpoint_schema = \(schema)
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND attempt = \(attempt) AND status = 'RUNNING'
                RETURNING idx
                """) != nil
        }
    }

    public func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool {
        try await write { conn in
            guard let current = try await self.one(conn, """
                SELECT outputs FROM stages WHERE deployment_id = \(deploymentID) AND idx = \(index) AND attempt = \(attempt)
                AND status = 'RUNNING' FOR UPDATE
                """)?.str("outputs") else { return false }
            var merged = (try? JSONDecoder().decode([String: String].self, from: Data(current.utf8))) ?? [:]
            merged.merge(outputs) { _, new in new }
            let text = String(decoding: try JSONEncoder().encode(merged), as: UTF8.self)
            try await self.exec(conn, "UPDATE stages SET outputs = \(text) WHERE deployment_id = \(deploymentID) AND idx = \(index)")
            return true
        }
    }

    /// All lines in one statement (arrays unnested), however many there are.
    public func appendLogs(_ lines: [StageLogLine]) async throws {
        guard !lines.isEmpty else { return }
        try await write { conn in
            try await self.exec(conn, """
                INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line)
                SELECT * FROM unnest(\(lines.map(\.deploymentID))::text[], \(lines.map(\.stageIndex))::bigint[],
                                     \(lines.map(\.attempt))::bigint[], \(lines.map(\.at.epoch))::float8[],
                                     \(lines.map(\.line))::text[])
                """)
        }
    }

    public func finishAttempt(_ f: AttemptFinish) async throws -> Bool {
        try await write { conn in
            let waitsForCallback = f.status == .suspended && f.waitingFor == "callback"
            // A callback may arrive before the function's own "suspended" result is applied: then its
            // resume_json is already there and the stage is due at once.
            let applied = try await self.one(conn, """
                UPDATE stages SET status = \(f.status.rawValue), message = \(f.message), error_type = \(f.errorType),
                    waiting_for = \(f.waitingFor), lease_owner = NULL, lease_expiry = NULL, process_group = NULL,
                    process_start = NULL,
                    resume_at = CASE WHEN \(waitsForCallback) AND resume_json IS NOT NULL THEN \(f.now.epoch)
                                     ELSE \(f.resumeAt?.epoch) END,
                    callback_hash = CASE WHEN \(waitsForCallback) THEN callback_hash ELSE NULL END,
                    completed_at = CASE WHEN \(f.status.isFinal) THEN \(f.now.epoch) ELSE NULL END
                WHERE deployment_id = \(f.deploymentID) AND idx = \(f.index) AND attempt = \(f.attempt) AND status = 'RUNNING'
                RETURNING idx
                """) != nil
            if let line = f.logLine {
                try await self.exec(conn, """
                    INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line)
                    VALUES (\(f.deploymentID), \(f.index), \(f.attempt), \(f.now.epoch), \(line))
                    """)
            }
            try await self.exec(conn, """
                UPDATE invocations SET ended_at = \(f.now.epoch), status = \(applied ? f.status.rawValue : "DISCARDED"),
                    error_type = \(f.errorType), message = \(f.message), report_json = \(f.reportJSON)
                WHERE id = \(Int(f.invocationID))
                """)
            if applied { try await self.notify(conn, .engine) }
            return applied
        }
    }

    public func markInterrupted(deploymentID: String, index: Int, now: Date) async throws -> Stage? {
        try await write { conn in
            try await self.exec(conn, """
                UPDATE invocations SET ended_at = \(now.epoch), status = 'INTERRUPTED',
                    error_type = (SELECT CASE WHEN stop_reason = 'shutdown' THEN 'Shutdown' ELSE 'Crashed' END
                                  FROM stages WHERE deployment_id = \(deploymentID) AND idx = \(index)),
                    message = 'the server stopped during this invocation'
                WHERE deployment_id = \(deploymentID) AND stage_idx = \(index) AND ended_at IS NULL
                """)
            try await self.exec(conn, """
                UPDATE stages SET recoveries = recoveries + CASE WHEN stop_reason = 'shutdown' THEN 0 ELSE 1 END,
                    stop_reason = NULL, lease_owner = NULL, lease_expiry = NULL
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND status = 'RUNNING'
                """)
            return try await self.stage(conn, deploymentID, index)
        }
    }

    public func markShutdown(deploymentID: String, index: Int, attempt: Int) async throws {
        try await write { conn in
            try await self.exec(conn, """
                UPDATE stages SET stop_reason = 'shutdown'
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND attempt = \(attempt) AND status = 'RUNNING'
                """)
        }
    }

    public func releaseShutdownLease(deploymentID: String, index: Int, attempt: Int, now: Date) async throws {
        try await write { conn in
            let released = try await self.one(conn, """
                UPDATE stages SET lease_expiry = \(now.epoch)
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND attempt = \(attempt) AND status = 'RUNNING'
                AND stop_reason = 'shutdown' RETURNING idx
                """) != nil
            // The replicas that stay wake up and take the stage over now.
            if released { try await self.notify(conn, .engine) }
        }
    }

    public func setStageStatus(deploymentID: String, index: Int, status: StageStatus, message: String, now: Date) async throws {
        try await write { conn in
            try await self.exec(conn, """
                UPDATE stages SET status = \(status.rawValue), message = \(message), lease_owner = NULL, lease_expiry = NULL,
                    started_at = COALESCE(started_at, \(now.epoch)),
                    completed_at = CASE WHEN \(status.isFinal) THEN \(now.epoch) ELSE NULL END
                WHERE deployment_id = \(deploymentID) AND idx = \(index) AND status IN ('NOT_STARTED', 'RUNNING', 'SUSPENDED')
                """)
        }
    }

    public func orphanedStages(replica: String, liveOwner: String, now: Date) async throws -> [Stage] {
        let prefix = replica + "/"
        return try await read { conn in
            try await self.rows(conn, """
                SELECT \(unescaped: Columns.stage) FROM stages WHERE status = 'RUNNING'
                AND (lease_owner IS NULL OR position('/' in lease_owner) = 0
                     OR (left(lease_owner, length(\(prefix))) = \(prefix) AND lease_owner <> \(liveOwner)))
                """).map(Stage.init)
        }
    }

    public func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval] {
        try await read { conn in
            try await self.rows(conn, """
                SELECT * FROM approvals WHERE deployment_id = \(deploymentID) AND stage_idx = \(stageIndex) ORDER BY at
                """).map { c in
                Approval(deploymentID: try c.str("deployment_id"), stageIndex: try c.int("stage_idx"),
                         approver: try c.str("approver"), at: try c.date("at"))
            }
        }
    }
}
