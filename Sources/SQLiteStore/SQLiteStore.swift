import Foundation
import GRDB
import Store

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a commit survives power loss.
public final class SQLiteStore: Store, Sendable {
    let pool: DatabasePool
    let ingestBatcher: GroupCommit

    public struct Options: Sendable {
        /// FULL (default) fsyncs every commit; NORMAL trades the last commits on power loss for speed.
        public var synchronous: String = "FULL"
        public init(synchronous: String = "FULL") { self.synchronous = synchronous }
    }

    /// Opens (creating if needed) `<path>` and migrates it to the current schema.
    public init(path: String, options: Options = Options()) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        var config = Configuration()
        let sync = options.synchronous
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(sync)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // Another process (a second `gantry` on the same data dir, the CLI) may hold the write lock briefly.
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's WAL setup sets synchronous=NORMAL after prepareDatabase ran: set ours again on the writer, or
        // commits are never fsynced and a 202 could be lost on power loss (seen with strace: no fdatasync at all).
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = \(sync)") }
        try Schema.migrator().migrate(pool)
        ingestBatcher = GroupCommit(pool: pool)
    }

    // MARK: ingress

    public func ingest(_ delivery: NewDelivery) async throws -> IngestResult {
        try await ingestBatcher.submit(delivery)
    }

    public func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        try await pool.write { db in try insertTrigger(db, trigger, now: Date()) }
    }

    // MARK: planner

    public func pendingTriggers(limit: Int) async throws -> [Trigger] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM triggers WHERE planned_at IS NULL ORDER BY id LIMIT ?",
                             arguments: [limit]).map(Trigger.init(row:))
        }
    }

    public func applications(repository: String?) async throws -> [Application] {
        try await pool.read { db in
            if let repository {
                return try Row.fetchAll(db, sql: "SELECT * FROM applications WHERE repository = ? ORDER BY name",
                                        arguments: [repository]).map(Application.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM applications ORDER BY name").map(Application.init(row:))
        }
    }

    public func application(named name: String) async throws -> Application? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM applications WHERE name = ?", arguments: [name]).map(Application.init(row:))
        }
    }

    public func commitPlan(_ outcome: PlanOutcome) async throws {
        try await pool.write { db in
            // Applied once per trigger (the PostgreSQL store's rule too, where two replicas could plan one trigger):
            // a trigger planned already keeps its plan. (An outcome for no stored trigger, as seeds write, applies.)
            let planned = try Row.fetchOne(db, sql: "SELECT planned_at FROM triggers WHERE id = ?", arguments: [outcome.triggerID])
            if let planned, (planned["planned_at"] as Double?) != nil { return }
            try db.execute(sql: "UPDATE triggers SET planned_at = ?, note = ? WHERE id = ?",
                           arguments: [Date().unix, outcome.note, outcome.triggerID])
            if !outcome.coalesced.isEmpty {
                let marks = Array(repeating: "?", count: outcome.coalesced.count).joined(separator: ",")
                try db.execute(sql: "UPDATE triggers SET planned_at = ?, note = ? WHERE planned_at IS NULL AND id IN (\(marks))",
                               arguments: StatementArguments([Date().unix, outcome.coalescedNote] as [any DatabaseValueConvertible])
                                   + StatementArguments(outcome.coalesced))
            }
            for app in outcome.applications {
                // running_commit is owned by the engine (set on SUCCESS): never overwrite it from a plan.
                try db.execute(sql: """
                    INSERT INTO applications (name, repository, path, config_file, kind, platform, last_triggered_commit,
                                              running_commit, config_error, updated_at, labels)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET repository = excluded.repository, path = excluded.path,
                        config_file = excluded.config_file, kind = excluded.kind, platform = excluded.platform,
                        last_triggered_commit = excluded.last_triggered_commit, config_error = excluded.config_error,
                        updated_at = excluded.updated_at, labels = excluded.labels
                    """, arguments: [app.name, app.repository, app.path, app.configFile, app.kind, app.platform,
                                     app.lastTriggeredCommit, app.runningCommit, app.configError, app.updatedAt.unix,
                                     labelsJSON(app.labels)])
            }
            for detail in outcome.deployments {
                try detail.deployment.insert(db)
                for stage in detail.stages { try stage.insert(db) }
            }
        }
    }

    // MARK: reads shared by engine and server

    func detail(_ db: Database, _ deployment: Deployment) throws -> DeploymentDetail {
        let stages = try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE deployment_id = ? ORDER BY idx",
                                      arguments: [deployment.id]).map(Stage.init(row:))
        return DeploymentDetail(deployment: deployment, stages: stages)
    }

    func details(_ db: Database, sql: String, arguments: StatementArguments) throws -> [DeploymentDetail] {
        let deployments = try Row.fetchAll(db, sql: sql, arguments: arguments).map(Deployment.init(row:))
        guard !deployments.isEmpty else { return [] }
        // One query for all stages rather than one per deployment: list pages stay fast with many rows.
        let marks = Array(repeating: "?", count: deployments.count).joined(separator: ",")
        var byID: [String: [Stage]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE deployment_id IN (\(marks)) ORDER BY idx",
                                    arguments: StatementArguments(deployments.map(\.id))) {
            let s = Stage(row: row)
            byID[s.deploymentID, default: []].append(s)
        }
        return deployments.map { DeploymentDetail(deployment: $0, stages: byID[$0.id] ?? []) }
    }
}

extension SQLiteStore {
    /// `PRAGMA integrity_check`: "ok" for a sound database file, else SQLite's list of problems.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
