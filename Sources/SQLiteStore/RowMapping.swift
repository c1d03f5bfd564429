import Foundation
import GRDB
import Store

/// Times are stored as Unix seconds (REAL): comparable in SQL, exact to the microsecond.
extension Date {
    var unix: Double { timeIntervalSince1970 }
}

func date(_ v: Double?) -> Date? { v.map { Date(timeIntervalSince1970: $0) } }

extension Deployment {
    static let columns = """
        id, application, repository, app_path, platform, commit_hash, running_commit, trigger_kind, commit_message,
        author, strategy, summary, status, status_reason, auto_rollback, created_at, started_at, completed_at,
        deadline, timeout_seconds, cancel_requested, cancel_rollback, commit_time, rollback_timeout_seconds,
        rollback_deadline
        """

    init(row: Row) {
        self.init(
            id: row["id"], application: row["application"], repository: row["repository"], appPath: row["app_path"],
            platform: row["platform"], commit: row["commit_hash"], runningCommit: row["running_commit"],
            triggerKind: TriggerKind(rawValue: row["trigger_kind"]) ?? .webhook,
            commitMessage: row["commit_message"], author: row["author"],
            strategy: SyncStrategy(rawValue: row["strategy"]) ?? .pipeline, summary: row["summary"],
            status: DeploymentStatus(rawValue: row["status"]) ?? .failure, statusReason: row["status_reason"],
            autoRollback: row["auto_rollback"], createdAt: date(row["created_at"])!,
            startedAt: date(row["started_at"]), completedAt: date(row["completed_at"]), deadline: date(row["deadline"]),
            timeoutSeconds: row["timeout_seconds"], cancelRequested: row["cancel_requested"],
            cancelRollback: row["cancel_rollback"], commitTime: date(row["commit_time"]),
            rollbackTimeoutSeconds: row["rollback_timeout_seconds"], rollbackDeadline: date(row["rollback_deadline"]))
    }

    func insert(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO deployments (\(Deployment.columns), seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                    (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments))
            """, arguments: [id, application, repository, appPath, platform, commit, runningCommit, triggerKind.rawValue,
                             commitMessage, author, strategy.rawValue, summary, status.rawValue, statusReason,
                             autoRollback, createdAt.unix, startedAt?.unix, completedAt?.unix, deadline?.unix,
                             timeoutSeconds, cancelRequested, cancelRollback, commitTime?.unix, rollbackTimeoutSeconds,
                             rollbackDeadline?.unix])
    }
}

extension Stage {
    init(row: Row) {
        self.init(deploymentID: row["deployment_id"], index: row["idx"], name: row["name"], withJSON: row["with_json"],
                  rollback: row["rollback"], rollbackOf: row["rollback_of"],
                  status: StageStatus(rawValue: row["status"]) ?? .failure, attempt: row["attempt"],
                  timeoutSeconds: row["timeout_seconds"],
                  retry: (row["retry_json"] as String?).flatMap { try? JSONDecoder().decode(RetryPolicy.self, from: Data($0.utf8)) })
        leaseOwner = row["lease_owner"]
        leaseExpiry = date(row["lease_expiry"])
        resumeAt = date(row["resume_at"])
        waitingFor = row["waiting_for"]
        deadline = date(row["deadline"])
        startedAt = date(row["started_at"])
        completedAt = date(row["completed_at"])
        checkpoint = row["checkpoint"]
        outputs = row["outputs"]
        message = row["message"]
        processGroup = row["process_group"]
        processStart = (row["process_start"] as Int64?).map { UInt64($0) }
        recoveries = row["recoveries"]
        errorType = row["error_type"]
        checkpointSchema = row["checkpoint_schema"]
        resumeJSON = row["resume_json"]
        stopReason = row["stop_reason"]
        functionName = row["function_name"]
        functionVersion = row["function_version"]
    }

    func insert(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO stages (deployment_id, idx, name, with_json, rollback, rollback_of, status, attempt,
                                timeout_seconds, retry_json, outputs, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [deploymentID, index, name, withJSON, rollback, rollbackOf, status.rawValue, attempt,
                             timeoutSeconds, retry.flatMap { try? String(decoding: JSONEncoder().encode($0), as: UTF8.self) },
                             outputs, message])
    }
}

extension Application {
    init(row: Row) {
        self.init(name: row["name"], repository: row["repository"], path: row["path"], configFile: row["config_file"],
                  kind: row["kind"], platform: row["platform"], lastTriggeredCommit: row["last_triggered_commit"],
                  runningCommit: row["running_commit"], configError: row["config_error"],
                  updatedAt: date(row["updated_at"])!)
        labels = (row["labels"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
    }
}

extension Trigger {
    init(row: Row) {
        self.init(id: row["id"], trigger: NewTrigger(
            repository: row["repository"], ref: row["ref"], commit: row["commit_hash"],
            kind: TriggerKind(rawValue: row["kind"]) ?? .webhook, application: row["application"],
            strategy: SyncStrategy(rawValue: row["strategy"]) ?? .auto,
            commitMessage: row["commit_message"], author: row["author"]), createdAt: date(row["created_at"])!)
    }
}

func insertTrigger(_ db: Database, _ t: NewTrigger, now: Date) throws -> Int64 {
    try db.cachedStatement(sql: """
        INSERT INTO triggers (repository, ref, commit_hash, kind, application, strategy, commit_message, author, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """).execute(arguments: [t.repository, t.ref, t.commit, t.kind.rawValue, t.application, t.strategy.rawValue,
                                 t.commitMessage, t.author, now.unix])
    return db.lastInsertedRowID
}

extension InvocationRecord {
    init(row: Row) {
        self.init(id: row["id"], deploymentID: row["deployment_id"], stageIndex: row["stage_idx"], attempt: row["attempt"],
                  recovery: row["recovery"], functionName: row["function_name"], functionVersion: row["function_version"],
                  startedAt: date(row["started_at"])!, endedAt: date(row["ended_at"]), status: row["status"],
                  errorType: row["error_type"], message: row["message"], reportJSON: row["report_json"])
    }
}
