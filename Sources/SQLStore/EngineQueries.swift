import Foundation
import SQLKit
import Store

/// The engine's calls. Every stage change is fenced by attempt (and status), so a replica acting on stale rows or a
/// lost lease changes nothing; leasing skips rows another replica is leasing right now.
extension SQLBackedStore {
    public func activateNextDeployments(now: Date) async throws -> [Deployment] {
        try await write { db in
            var started: [Deployment] = []
            // Sorted: replicas take the applications' locks in one order, so they never wait on each other in a cycle.
            let apps = try await db.rows("""
                SELECT DISTINCT application FROM deployments WHERE status IN ('PLANNED', 'PENDING')
                AND application NOT IN (SELECT application FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK'))
                ORDER BY application
                """).map { try $0.str("application") }
            for app in apps {
                // Replicas activate one application at a time (others not held up); the partial unique index
                // deployments_one_active is the hard rule. Under the lock, one may have been activated meanwhile.
                try await self.serialize(db, .activation(application: app))
                guard try await db.one("""
                    SELECT id FROM deployments WHERE application = \(bind: app) AND status IN ('RUNNING', 'ROLLING_BACK')
                    """) == nil else { continue }
                let planned = try await db.rows("""
                    SELECT \(unsafeRaw: Columns.deployment) FROM deployments
                    WHERE application = \(bind: app) AND status IN ('PLANNED', 'PENDING') ORDER BY seq DESC
                    """).map(Deployment.init)
                guard var newest = planned.first else { continue }
                for older in planned.dropFirst() {
                    try await db.exec("""
                        UPDATE deployments SET status = 'CANCELLED', status_reason = \(bind: "superseded by deployment \(newest.id)"),
                            completed_at = \(bind: now.epoch) WHERE id = \(bind: older.id)
                        """)
                    try await db.exec("""
                        UPDATE stages SET status = 'CANCELLED', completed_at = \(bind: now.epoch) WHERE deployment_id = \(bind: older.id)
                        """)
                    try await self.enqueueOutbox(db, .cancelled, deploymentID: older.id, now: now)
                }
                newest.status = .running
                newest.startedAt = now
                newest.deadline = now.addingTimeInterval(newest.timeoutSeconds)
                // The deployment's running commit is what is live now, not what was live when it was planned.
                let running = try await db.one("SELECT running_commit FROM applications WHERE name = \(bind: app)")?
                    .optStr("running_commit")
                newest.runningCommit = running ?? newest.runningCommit
                try await db.exec("""
                    UPDATE deployments SET status = 'RUNNING', started_at = \(bind: now.epoch), deadline = \(bind: newest.deadline!.epoch),
                        running_commit = \(bind: newest.runningCommit) WHERE id = \(bind: newest.id)
                    """)
                try await self.enqueueOutbox(db, .started, deploymentID: newest.id, now: now)
                started.append(newest)
            }
            // Its first stage may be another replica's preferred work.
            for d in started { try await self.notify(db, .deployment(d.id)) }
            return started
        }
    }

    public func activeDeployments() async throws -> [DeploymentDetail] {
        try await read { db in
            try await self.details(db, """
                SELECT \(unsafeRaw: Columns.deployment) FROM deployments WHERE status IN ('RUNNING', 'ROLLING_BACK') ORDER BY seq
                """)
        }
    }

    public func activeDeployments(ids: [String]) async throws -> [DeploymentDetail] {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            try await self.details(db, """
                SELECT \(unsafeRaw: Columns.deployment) FROM deployments
                WHERE id IN (\(binds: ids)) AND status IN ('RUNNING', 'ROLLING_BACK') ORDER BY seq
                """)
        }
    }

    public func dueDeployments(now: Date) async throws -> [DeploymentDetail] {
        let at = now.epoch
        return try await read { db in
            try await self.details(db, """
                SELECT \(unsafeRaw: Columns.deployment) FROM deployments AS d
                WHERE d.status IN ('RUNNING', 'ROLLING_BACK') AND (
                    (d.status = 'RUNNING' AND (d.cancel_requested = 1 OR d.deadline <= \(bind: at)))
                    OR (d.status = 'ROLLING_BACK' AND d.rollback_deadline <= \(bind: at))
                    OR EXISTS (SELECT 1 FROM stages AS s WHERE s.deployment_id = d.id AND (
                        (s.status = 'SUSPENDED' AND (s.resume_at <= \(bind: at) OR s.deadline <= \(bind: at)
                            OR EXISTS (SELECT 1 FROM approvals AS a WHERE a.deployment_id = s.deployment_id
                                       AND a.stage_idx = s.idx)))
                        OR (s.status = 'RUNNING' AND (s.lease_owner IS NULL OR s.lease_expiry < \(bind: at)))))
                    OR NOT EXISTS (SELECT 1 FROM stages AS s WHERE s.deployment_id = d.id
                                   AND s.status IN ('RUNNING', 'SUSPENDED')))
                ORDER BY d.seq
                """)
        }
    }

    public func leaseStage(_ r: LeaseRequest) async throws -> (stage: Stage, invocationID: Int64)? {
        try await write { db in try await self.lease(db, r) }
    }

    private func lease(_ db: any SQLDatabase, _ r: LeaseRequest) async throws -> (stage: Stage, invocationID: Int64)? {
        // SKIP LOCKED: a replica leasing the same stage right now wins; this one moves on without waiting.
        // A RUNNING stage is free only when its lease expired (its replica died or stopped) or was released.
        guard let before = try await db.one("""
            SELECT \(unsafeRaw: Columns.stage) FROM stages
            WHERE deployment_id = \(bind: r.deploymentID) AND idx = \(bind: r.index) AND attempt = \(bind: r.expectedAttempt)
            AND status = \(bind: r.expectedStatus.rawValue)
            AND (status <> 'RUNNING' OR lease_owner IS NULL OR lease_expiry < \(bind: r.now.epoch))
            \(self.flavor.lock(skipLocked: true))
            """).map(Stage.init) else { return nil }
        if let c = r.concurrency {
            try await self.serialize(db, .concurrencySlot(c.slot))
            let held = try await db.one("""
                SELECT COUNT(*) AS n FROM stages WHERE status = 'RUNNING' AND concurrency_slot = \(bind: c.slot)
                AND lease_expiry >= \(bind: r.now.epoch)
                AND NOT (deployment_id = \(bind: r.deploymentID) AND idx = \(bind: r.index))
                """)?.int("n") ?? 0
            if held >= c.limit { return nil }
        }
        let interruption = Interruption(stopReason: before.stopReason)
        // Taking over: the invocation the lost lease belonged to ends here, and counts as a crash recovery.
        let closed = try await db.rows("""
            UPDATE invocations SET ended_at = \(bind: r.now.epoch), status = 'INTERRUPTED',
                error_type = \(bind: interruption.errorType),
                message = 'the replica running this invocation stopped or lost its lease'
            WHERE deployment_id = \(bind: r.deploymentID) AND stage_idx = \(bind: r.index) AND ended_at IS NULL RETURNING id
            """)
        let recovered = !closed.isEmpty && interruption.countsAsRecovery ? 1 : 0
        // started_at and deadline are fixed by the first attempt only: a restart never moves a timeout.
        guard var stage = try await db.one("""
            UPDATE stages SET status = 'RUNNING', attempt = attempt + \(bind: r.newAttempt ? 1 : 0), lease_owner = \(bind: r.owner),
                lease_expiry = \(bind: r.leaseExpiry.epoch), recoveries = recoveries + \(bind: recovered),
                started_at = COALESCE(started_at, \(bind: r.now.epoch)),
                deadline = COALESCE(deadline, \(bind: r.now.epoch) + COALESCE(timeout_seconds, \(bind: r.defaultStageTimeout))),
                process_group = NULL, process_start = NULL, callback_hash = \(bind: r.callbackHash), resume_json = NULL,
                stop_reason = NULL, error_type = NULL, function_name = \(bind: r.functionName),
                function_version = \(bind: r.functionVersion), concurrency_slot = \(bind: r.concurrency?.slot)
            WHERE deployment_id = \(bind: r.deploymentID) AND idx = \(bind: r.index) AND attempt = \(bind: r.expectedAttempt)
            AND status = \(bind: r.expectedStatus.rawValue)
            RETURNING \(unsafeRaw: Columns.stage)
            """).map(Stage.init) else { return nil }
        stage.resumeJSON = before.resumeJSON
        let invocation = try await db.one("""
            INSERT INTO invocations (deployment_id, stage_idx, attempt, recovery, function_name, function_version, started_at)
            VALUES (\(bind: r.deploymentID), \(bind: r.index), \(bind: stage.attempt), \(bind: stage.recoveries), \(bind: r.functionName),
                    \(bind: r.functionVersion), \(bind: r.now.epoch))
            RETURNING id
            """)
        return (stage, Int64(try invocation!.int("id")))
    }

    /// Only a crash of Gantry leaves the process group to kill; a crash of the machine ends it too. So it is kept
    /// without an fsync of its own.
    public func recordProcess(deploymentID: String, index: Int, attempt: Int, group: Int32, start: UInt64) async throws {
        try await write(.process) { db in
            try await db.exec("""
                UPDATE stages SET process_group = \(bind: Int(group)), process_start = \(bind: Int(Int64(bitPattern: start)))
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND attempt = \(bind: attempt)
                """)
        }
    }

    public func saveCheckpoint(deploymentID: String, index: Int, attempt: Int, checkpoint: String,
                               schema: Int?) async throws -> Bool {
        try await write { db in
            try await db.one("""
                UPDATE stages SET checkpoint = \(bind: checkpoint), checkpoint_schema = \(bind: schema)
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND attempt = \(bind: attempt) AND status = 'RUNNING'
                RETURNING idx
                """) != nil
        }
    }

    public func mergeOutputs(deploymentID: String, index: Int, attempt: Int, outputs: [String: String]) async throws -> Bool {
        try await write { db in
            guard let current = try await db.one("""
                SELECT outputs FROM stages WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND attempt = \(bind: attempt)
                AND status = 'RUNNING' \(self.flavor.lock())
                """)?.str("outputs") else { return false }
            var merged = (try? JSONDecoder().decode([String: String].self, from: Data(current.utf8))) ?? [:]
            merged.merge(outputs) { _, new in new }
            let text = String(decoding: try JSONEncoder().encode(merged), as: UTF8.self)
            try await db.exec("UPDATE stages SET outputs = \(bind: text) WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index)")
            return true
        }
    }

    /// Many lines per statement (within both databases' limits on binds), all in one transaction.
    public func appendLogs(_ lines: [StageLogLine]) async throws {
        guard !lines.isEmpty else { return }
        try await write { db in
            for start in stride(from: 0, to: lines.count, by: 500) {
                let rows = lines[start..<min(start + 500, lines.count)].map { l -> SQLQueryString in
                    "(\(bind: l.deploymentID), \(bind: l.stageIndex), \(bind: l.attempt), \(bind: l.at.epoch), \(bind: l.line))"
                }
                try await db.exec("""
                    INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line) VALUES \(rows.joined(separator: ", "))
                    """)
            }
        }
    }

    public func finishAttempt(_ f: AttemptFinish) async throws -> AttemptFinished {
        try await write { db in
            guard let current = try await db.one("""
                SELECT resume_json, outputs FROM stages
                WHERE deployment_id = \(bind: f.deploymentID) AND idx = \(bind: f.index) AND attempt = \(bind: f.attempt)
                AND status = 'RUNNING' \(self.flavor.lock())
                """) else {
                try await self.endInvocation(db, f, status: "DISCARDED")
                return AttemptFinished(applied: false)
            }
            let resumeAt = f.resumeAt(callbackAlreadyArrived: try current.optStr("resume_json") != nil)
            try await db.exec("""
                UPDATE stages SET status = \(bind: f.status.rawValue), message = \(bind: f.message), error_type = \(bind: f.errorType),
                    waiting_for = \(bind: f.waitingFor), lease_owner = NULL, lease_expiry = NULL, process_group = NULL,
                    process_start = NULL,
                    resume_at = \(bind: resumeAt?.epoch),
                    callback_hash = \(f.waitsForCallback ? "callback_hash" : "NULL" as SQLQueryString),
                    completed_at = \(bind: f.status.isFinal ? f.now.epoch : nil)
                WHERE deployment_id = \(bind: f.deploymentID) AND idx = \(bind: f.index) AND attempt = \(bind: f.attempt) AND status = 'RUNNING'
                """)
            if let line = f.logLine {
                try await db.exec("""
                    INSERT INTO stage_logs (deployment_id, stage_idx, attempt, at, line)
                    VALUES (\(bind: f.deploymentID), \(bind: f.index), \(bind: f.attempt), \(bind: f.now.epoch), \(bind: line))
                    """)
            }
            try await self.endInvocation(db, f, status: f.status.rawValue)
            if f.status == .suspended && f.waitingFor == "approval" {
                try await self.enqueueOutbox(db, .waitApproval, deploymentID: f.deploymentID, now: f.now)
            }
            var finished = AttemptFinished(applied: true, outputs: try current.str("outputs"))
            if let next = f.next, try await self.stillRunning(db, f.deploymentID, now: f.now) {
                finished.next = try await self.lease(db, next)
            }
            // With the next stage leased here, the other replicas still hear of it (their views of it change).
            try await self.notify(db, .deployment(f.deploymentID))
            return finished
        }
    }

    /// RUNNING, no cancel asked for and within its deadline: nothing for the engine to decide before the next stage.
    /// (A cancel committed just after this reaches the leased stage as it reaches any running one.)
    private func stillRunning(_ db: any SQLDatabase, _ id: String, now: Date) async throws -> Bool {
        try await db.one("""
            SELECT id FROM deployments WHERE id = \(bind: id) AND status = 'RUNNING' AND cancel_requested = 0
            AND (deadline IS NULL OR deadline > \(bind: now.epoch))
            """) != nil
    }

    /// A result that arrives for an attempt that is not running any more is kept on its invocation as DISCARDED.
    private func endInvocation(_ db: any SQLDatabase, _ f: AttemptFinish, status: String) async throws {
        try await db.exec("""
            UPDATE invocations SET ended_at = \(bind: f.now.epoch), status = \(bind: status),
                error_type = \(bind: f.errorType), message = \(bind: f.message), report_json = \(bind: f.reportJSON)
            WHERE id = \(bind: Int(f.invocationID))
            """)
    }

    public func markInterrupted(deploymentID: String, index: Int, now: Date) async throws -> Stage? {
        try await write { db in
            guard let before = try await self.stage(db, deploymentID, index, lock: true) else { return nil }
            let interruption = Interruption(stopReason: before.stopReason)
            try await db.exec("""
                UPDATE invocations SET ended_at = \(bind: now.epoch), status = 'INTERRUPTED', error_type = \(bind: interruption.errorType),
                    message = 'the server stopped during this invocation'
                WHERE deployment_id = \(bind: deploymentID) AND stage_idx = \(bind: index) AND ended_at IS NULL
                """)
            try await db.exec("""
                UPDATE stages SET recoveries = recoveries + \(bind: interruption.countsAsRecovery ? 1 : 0),
                    stop_reason = NULL, lease_owner = NULL, lease_expiry = NULL
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND status = 'RUNNING'
                """)
            return try await self.stage(db, deploymentID, index)
        }
    }

    public func markShutdown(deploymentID: String, index: Int, attempt: Int) async throws {
        try await write { db in
            try await db.exec("""
                UPDATE stages SET stop_reason = \(bind: Interruption.gracefulStopReason)
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND attempt = \(bind: attempt) AND status = 'RUNNING'
                """)
        }
    }

    public func releaseShutdownLease(deploymentID: String, index: Int, attempt: Int, now: Date) async throws {
        try await write { db in
            let released = try await db.one("""
                UPDATE stages SET lease_expiry = \(bind: now.epoch)
                WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index) AND attempt = \(bind: attempt) AND status = 'RUNNING'
                AND stop_reason = \(bind: Interruption.gracefulStopReason) RETURNING idx
                """) != nil
            // The replicas that stay wake up and take the stage over now.
            if released { try await self.notify(db, .deployment(deploymentID)) }
        }
    }

    /// The engine's changes to one deployment outside any attempt (cancel, skip, rollback, finish), in one
    /// transaction. A stage that is final already stays as it is.
    public func apply(_ changes: [DeploymentChange], to deploymentID: String, now: Date) async throws {
        guard !changes.isEmpty else { return }
        try await write { db in
            for change in changes {
                switch change {
                case .stage(let index, let status, let message):
                    try await db.exec("""
                        UPDATE stages SET status = \(bind: status.rawValue), message = \(bind: message), lease_owner = NULL,
                            lease_expiry = NULL, started_at = COALESCE(started_at, \(bind: now.epoch)),
                            completed_at = \(bind: status.isFinal ? now.epoch : nil)
                        WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index)
                        AND status IN ('NOT_STARTED', 'RUNNING', 'SUSPENDED')
                        """)
                case .deployment(let status, let reason):
                    try await self.setDeploymentStatus(db, deploymentID, status, reason: reason, now: now)
                }
            }
        }
    }

    /// Becoming ROLLING_BACK fixes the rollback deadline once; SUCCESS moves the application's running commit.
    private func setDeploymentStatus(_ db: any SQLDatabase, _ id: String, _ status: DeploymentStatus, reason: String,
                                     now: Date) async throws {
        let completed: Double? = status.isFinal ? now.epoch : nil
        // Only an actual change is an event (a restart may apply the same status again).
        let before = outbox.router == nil ? nil
            : try await db.one("SELECT status FROM deployments WHERE id = \(bind: id)")?.str("status")
        try await db.exec("""
            UPDATE deployments SET status = \(bind: status.rawValue), status_reason = \(bind: reason),
                completed_at = COALESCE(\(bind: completed), completed_at),
                rollback_deadline = CASE WHEN \(bind: status == .rollingBack)
                                         THEN COALESCE(rollback_deadline, \(bind: now.epoch) + rollback_timeout_seconds)
                                         ELSE rollback_deadline END
            WHERE id = \(bind: id)
            """)
        if status == .success {
            try await db.exec("""
                UPDATE applications SET running_commit = (SELECT commit_hash FROM deployments WHERE id = \(bind: id)),
                    updated_at = \(bind: now.epoch) WHERE name = (SELECT application FROM deployments WHERE id = \(bind: id))
                """)
        }
        if before != status.rawValue, status != .running, let event = DeploymentEventType(status: status) {
            try await self.enqueueOutbox(db, event, deploymentID: id, now: now)
        }
        // Another planned deployment of this application may start now, on any replica.
        if status.isFinal { try await self.notify(db, .engine) }
    }

    public func orphanedStages(replica: String, liveOwner: String, now: Date) async throws -> [Stage] {
        let prefix = replica + "/"
        return try await read { db in
            try await db.rows("""
                SELECT \(unsafeRaw: Columns.stage) FROM stages WHERE status = 'RUNNING'
                AND (lease_owner IS NULL OR lease_owner NOT LIKE '%/%'
                     OR (substr(lease_owner, 1, length(\(bind: prefix))) = \(bind: prefix) AND lease_owner <> \(bind: liveOwner)))
                """).map(Stage.init)
        }
    }

    public func approvals(deploymentID: String, stageIndex: Int) async throws -> [Approval] {
        try await read { db in
            try await db.rows("""
                SELECT * FROM approvals WHERE deployment_id = \(bind: deploymentID) AND stage_idx = \(bind: stageIndex) ORDER BY at
                """).map { c in
                Approval(deploymentID: try c.str("deployment_id"), stageIndex: try c.int("stage_idx"),
                         approver: try c.str("approver"), at: try c.date("at"))
            }
        }
    }
}
