import Foundation
import SQLKit
import Store

/// Row <-> record mapping: the columns each record reads and the statements that insert it.
enum Columns {
    static let deployment = """
        id, application, repository, app_path, platform, commit_hash, running_commit, trigger_kind, commit_message,
        author, strategy, summary, status, status_reason, auto_rollback, created_at, started_at, completed_at,
        deadline, timeout_seconds, cancel_requested, cancel_rollback, commit_time, rollback_timeout_seconds,
        rollback_deadline
        """
    static let stage = """
        deployment_id, idx, name, with_json, rollback, rollback_of, status, attempt, lease_owner, lease_expiry,
        resume_at, waiting_for, timeout_seconds, retry_json, deadline, started_at, completed_at, checkpoint, outputs,
        message, process_group, process_start, recoveries, error_type, checkpoint_schema, resume_json, stop_reason,
        function_name, function_version
        """
    static let trigger = """
        id, repository, ref, commit_hash, kind, application, strategy, commit_message, author, pull_request, created_at
        """
    static let invocation = """
        id, deployment_id, stage_idx, attempt, recovery, function_name, function_version, started_at, ended_at, status,
        error_type, message, report_json
        """
}

extension Deployment {
    init(_ c: Cells) throws {
        self.init(
            id: try c.str("id"), application: try c.str("application"), repository: try c.str("repository"),
            appPath: try c.str("app_path"), platform: try c.optStr("platform"), commit: try c.str("commit_hash"),
            runningCommit: try c.optStr("running_commit"),
            triggerKind: try c.value("trigger_kind", as: TriggerKind.self),
            commitMessage: try c.str("commit_message"), author: try c.str("author"),
            strategy: try c.value("strategy", as: SyncStrategy.self), summary: try c.str("summary"),
            status: try c.value("status", as: DeploymentStatus.self), statusReason: try c.str("status_reason"),
            autoRollback: try c.flag("auto_rollback"), createdAt: try c.date("created_at"),
            startedAt: try c.optDate("started_at"), completedAt: try c.optDate("completed_at"),
            deadline: try c.optDate("deadline"), timeoutSeconds: try c.dbl("timeout_seconds"),
            cancelRequested: try c.flag("cancel_requested"), cancelRollback: try c.flag("cancel_rollback"),
            commitTime: try c.optDate("commit_time"), rollbackTimeoutSeconds: try c.dbl("rollback_timeout_seconds"),
            rollbackDeadline: try c.optDate("rollback_deadline"))
    }

    func insertQuery(seq: SQLQueryString) -> SQLQueryString {
        """
        INSERT INTO deployments (seq, id, application, repository, app_path, platform, commit_hash, running_commit,
            trigger_kind, commit_message, author, strategy, summary, status, status_reason, auto_rollback, created_at,
            started_at, completed_at, deadline, timeout_seconds, cancel_requested, cancel_rollback, commit_time,
            rollback_timeout_seconds, rollback_deadline)
        VALUES (\(seq), \(bind: id), \(bind: application), \(bind: repository), \(bind: appPath), \(bind: platform), \(bind: commit), \(bind: runningCommit),
            \(bind: triggerKind.rawValue), \(bind: commitMessage), \(bind: author), \(bind: strategy.rawValue), \(bind: summary), \(bind: status.rawValue),
            \(bind: statusReason), \(bind: autoRollback ? 1 : 0), \(bind: createdAt.epoch), \(bind: startedAt?.epoch), \(bind: completedAt?.epoch),
            \(bind: deadline?.epoch), \(bind: timeoutSeconds), \(bind: cancelRequested ? 1 : 0), \(bind: cancelRollback ? 1 : 0), \(bind: commitTime?.epoch),
            \(bind: rollbackTimeoutSeconds), \(bind: rollbackDeadline?.epoch))
        """
    }
}

extension Stage {
    init(_ c: Cells) throws {
        self.init(deploymentID: try c.str("deployment_id"), index: try c.int("idx"), name: try c.str("name"),
                  withJSON: try c.str("with_json"), rollback: try c.flag("rollback"), rollbackOf: try c.optInt("rollback_of"),
                  status: try c.value("status", as: StageStatus.self), attempt: try c.int("attempt"),
                  timeoutSeconds: try c.optDbl("timeout_seconds"),
                  retry: try c.optStr("retry_json").flatMap { try? JSONDecoder().decode(RetryPolicy.self, from: Data($0.utf8)) })
        leaseOwner = try c.optStr("lease_owner")
        leaseExpiry = try c.optDate("lease_expiry")
        resumeAt = try c.optDate("resume_at")
        waitingFor = try c.optStr("waiting_for")
        deadline = try c.optDate("deadline")
        startedAt = try c.optDate("started_at")
        completedAt = try c.optDate("completed_at")
        checkpoint = try c.optStr("checkpoint")
        outputs = try c.str("outputs")
        message = try c.str("message")
        processGroup = try c.optInt("process_group").map { Int32(truncatingIfNeeded: $0) }
        processStart = try c.optInt("process_start").map { UInt64(bitPattern: Int64($0)) }
        recoveries = try c.int("recoveries")
        errorType = try c.optStr("error_type")
        checkpointSchema = try c.optInt("checkpoint_schema")
        resumeJSON = try c.optStr("resume_json")
        stopReason = try c.optStr("stop_reason")
        functionName = try c.optStr("function_name")
        functionVersion = try c.optStr("function_version")
    }

    var insertQuery: SQLQueryString {
        let retryJSON = retry.flatMap { try? String(decoding: JSONEncoder().encode($0), as: UTF8.self) }
        return """
            INSERT INTO stages (deployment_id, idx, name, with_json, rollback, rollback_of, status, attempt,
                                timeout_seconds, retry_json, outputs, message)
            VALUES (\(bind: deploymentID), \(bind: index), \(bind: name), \(bind: withJSON), \(bind: rollback ? 1 : 0), \(bind: rollbackOf), \(bind: status.rawValue),
                    \(bind: attempt), \(bind: timeoutSeconds), \(bind: retryJSON), \(bind: outputs), \(bind: message))
            """
    }
}

extension Application {
    init(_ c: Cells) throws {
        self.init(name: try c.str("name"), repository: try c.str("repository"), path: try c.str("path"),
                  configFile: try c.str("config_file"), kind: try c.str("kind"), platform: try c.optStr("platform"),
                  lastTriggeredCommit: try c.optStr("last_triggered_commit"), runningCommit: try c.optStr("running_commit"),
                  configError: try c.optStr("config_error"), updatedAt: try c.date("updated_at"))
        // Most applications have no labels: "{}" is not worth a JSON decoder each (a planner reads every app of a repository).
        let text = try c.optStr("labels") ?? "{}"
        labels = text == "{}" ? [:] : (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        let warnings = try c.optStr("config_warnings") ?? "[]"
        configWarnings = warnings == "[]" ? [] : (try? JSONDecoder().decode([String].self, from: Data(warnings.utf8))) ?? []
    }
}

extension Trigger {
    init(_ c: Cells) throws {
        self.init(id: Int64(try c.int("id")), trigger: NewTrigger(
            repository: try c.str("repository"), ref: try c.str("ref"), commit: try c.optStr("commit_hash"),
            kind: try c.value("kind", as: TriggerKind.self), application: try c.optStr("application"),
            strategy: try c.value("strategy", as: SyncStrategy.self),
            commitMessage: try c.str("commit_message"), author: try c.str("author"),
            pullRequest: try c.optStr("pull_request").map { try JSONDecoder().decode(PullRequestRef.self, from: Data($0.utf8)) }),
            createdAt: try c.date("created_at"))
    }
}

extension InvocationRecord {
    init(_ c: Cells) throws {
        self.init(id: Int64(try c.int("id")), deploymentID: try c.str("deployment_id"), stageIndex: try c.int("stage_idx"),
                  attempt: try c.int("attempt"), recovery: try c.int("recovery"), functionName: try c.str("function_name"),
                  functionVersion: try c.str("function_version"), startedAt: try c.date("started_at"),
                  endedAt: try c.optDate("ended_at"), status: try c.optStr("status"), errorType: try c.optStr("error_type"),
                  message: try c.optStr("message"), reportJSON: try c.optStr("report_json"))
    }
}

extension SQLBackedStore {
    func insertTrigger(_ db: any SQLDatabase, _ t: NewTrigger, now: Date) async throws -> Int64 {
        let pullRequest = try t.pullRequest.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let row = try await db.one("""
            INSERT INTO triggers (repository, ref, commit_hash, kind, application, strategy, commit_message, author,
                                  pull_request, created_at)
            VALUES (\(bind: t.repository), \(bind: t.ref), \(bind: t.commit), \(bind: t.kind.rawValue), \(bind: t.application), \(bind: t.strategy.rawValue),
                    \(bind: t.commitMessage), \(bind: t.author), \(bind: pullRequest), \(bind: now.epoch))
            RETURNING id
            """)
        return Int64(try row!.int("id"))
    }

    /// Deployments with their stages: one query for all stages, so list pages stay fast with many rows.
    func details(_ db: any SQLDatabase, _ query: SQLQueryString) async throws -> [DeploymentDetail] {
        let deployments = try await db.rows(query, table: "deployments").map(Deployment.init)
        guard !deployments.isEmpty else { return [] }
        var byID: [String: [Stage]] = [:]
        let ids = deployments.map(\.id)
        for c in try await db.rows("""
            SELECT \(unsafeRaw: Columns.stage) FROM stages WHERE deployment_id IN (\(binds: ids)) ORDER BY idx
            """) {
            let s = try Stage(c)
            byID[s.deploymentID, default: []].append(s)
        }
        return deployments.map { DeploymentDetail(deployment: $0, stages: byID[$0.id] ?? []) }
    }

    func stage(_ db: any SQLDatabase, _ deploymentID: String, _ index: Int, lock: Bool = false) async throws -> Stage? {
        try await db.one("""
            SELECT \(unsafeRaw: Columns.stage) FROM stages WHERE deployment_id = \(bind: deploymentID) AND idx = \(bind: index)
            \(lock ? flavor.lock() : "")
            """, table: "stages").map(Stage.init)
    }
}
