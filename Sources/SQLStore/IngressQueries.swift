import Foundation
import SQLKit
import Store

/// How long a replica may plan a repository's triggers before another may (it died while planning).
let planningClaimSeconds = 120.0

/// Ingress, planner, deliveries and reconcile.
extension SQLBackedStore {
    /// One transaction per delivery (PostgreSQL commits concurrent transactions together itself; the SQLite back
    /// end batches deliveries into one transaction instead). The unique (binding, delivery_id) holds across
    /// replicas: a delivery sent to two replicas makes one trigger.
    public func ingest(_ d: NewDelivery) async throws -> IngestResult {
        try await write { db in
            let result = try await self.record(d, db, now: Date())
            if case .recorded(triggerID: .some) = result { try await self.notify(db, .planner) }
            return result
        }
    }

    /// Records one delivery (and its triggers: several ref updates in one delivery commit with it, or none do).
    public func record(_ d: NewDelivery, _ db: any SQLDatabase, now: Date) async throws -> IngestResult {
            guard let row = try await db.one("""
                INSERT INTO deliveries (binding, delivery_id, event, verdict, reason, received_at)
                VALUES (\(bind: d.binding), \(bind: d.deliveryID), \(bind: d.event), \(bind: d.verdict.rawValue), \(bind: d.reason), \(bind: now.epoch))
                ON CONFLICT (binding, delivery_id) DO NOTHING RETURNING id
                """) else { return .duplicate }
            guard !d.triggers.isEmpty else { return .recorded(triggerID: nil) }
            var ids: [Int64] = []
            for t in d.triggers { ids.append(try await self.insertTrigger(db, t, now: now)) }
            let deliveryRow = try row.int("id")
            try await db.exec("UPDATE deliveries SET trigger_id = \(bind: Int(ids[0])) WHERE id = \(bind: deliveryRow)")
            return .recorded(triggerID: ids[0])
    }

    public func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        try await write { db in
            let id = try await self.insertTrigger(db, trigger, now: Date())
            try await self.notify(db, .planner)
            return id
        }
    }

    /// Claims pending triggers for this process: whole repositories at a time, never one another replica is planning
    /// now, so the triggers of one repository are planned in order by one replica.
    public func pendingTriggers(limit: Int, excluding repositories: Set<String>) async throws -> [Trigger] {
        let others: SQLQueryString = repositories.isEmpty ? "" : "AND repository NOT IN (\(binds: repositories.sorted()))"
        guard flavor.claimsTriggers else {
            return try await read { db in
                try await db.rows("""
                    SELECT \(unsafeRaw: Columns.trigger) FROM triggers WHERE planned_at IS NULL \(others)
                    ORDER BY id LIMIT \(bind: limit)
                    """, table: "triggers").map(Trigger.init)
            }
        }
        return try await write { db in
            let now = Date().epoch
            try await self.serialize(db, .planningClaims)
            let claimed = try await db.rows("""
                UPDATE triggers SET claimed_by = \(bind: self.claimant), claimed_until = \(bind: now + planningClaimSeconds)
                WHERE id IN (
                    SELECT id FROM triggers WHERE planned_at IS NULL \(others) AND repository NOT IN (
                        SELECT repository FROM triggers WHERE planned_at IS NULL AND claimed_until >= \(bind: now)
                        AND claimed_by <> \(bind: self.claimant))
                    ORDER BY id LIMIT \(bind: limit))
                RETURNING \(unsafeRaw: Columns.trigger)
                """)
            return try claimed.map(Trigger.init).sorted { $0.id < $1.id }
        }
    }

    public func applications(repository: String?) async throws -> [Application] {
        try await read { db in
            if let repository {
                return try await db.rows("SELECT * FROM applications WHERE repository = \(bind: repository) ORDER BY name")
                    .map(Application.init)
            }
            return try await db.rows("SELECT * FROM applications ORDER BY name").map(Application.init)
        }
    }

    public func application(named name: String) async throws -> Application? {
        try await read { db in
            try await db.one("SELECT * FROM applications WHERE name = \(bind: name)").map(Application.init)
        }
    }

    /// Applied once per trigger: a replica whose claim ran out while another planned the same trigger finds it
    /// planned already and writes nothing.
    public func commitPlan(_ outcome: PlanOutcome) async throws {
        try await write { db in
            // (An outcome for no stored trigger, as seeds write, applies.)
            let trigger = try await db.one("""
                SELECT planned_at FROM triggers WHERE id = \(bind: Int(outcome.triggerID)) \(self.flavor.lock())
                """)
            if let trigger, try trigger.optDbl("planned_at") != nil { return }
            try await db.exec("""
                UPDATE triggers SET planned_at = \(bind: Date().epoch), note = \(bind: outcome.note), claimed_by = NULL, claimed_until = NULL
                WHERE id = \(bind: Int(outcome.triggerID))
                """)
            if !outcome.coalesced.isEmpty {
                try await db.exec("""
                    UPDATE triggers SET planned_at = \(bind: Date().epoch), note = \(bind: outcome.coalescedNote), claimed_by = NULL,
                        claimed_until = NULL
                    WHERE planned_at IS NULL AND id IN (\(binds: outcome.coalesced.map { Int($0) }))
                    """)
            }
            for app in outcome.applications {
                // running_commit is owned by the engine (set on SUCCESS): never overwrite it from a plan.
                try await db.exec("""
                    INSERT INTO applications (name, repository, path, config_file, kind, platform, last_triggered_commit,
                                              running_commit, config_error, updated_at, labels, config_warnings)
                    VALUES (\(bind: app.name), \(bind: app.repository), \(bind: app.path), \(bind: app.configFile), \(bind: app.kind), \(bind: app.platform),
                            \(bind: app.lastTriggeredCommit), \(bind: app.runningCommit), \(bind: app.configError), \(bind: app.updatedAt.epoch),
                            \(bind: labelsJSON(app.labels)), \(bind: warningsJSON(app.configWarnings)))
                    ON CONFLICT (name) DO UPDATE SET repository = excluded.repository, path = excluded.path,
                        config_file = excluded.config_file, kind = excluded.kind, platform = excluded.platform,
                        last_triggered_commit = excluded.last_triggered_commit, config_error = excluded.config_error,
                        updated_at = excluded.updated_at, labels = excluded.labels, config_warnings = excluded.config_warnings
                    """)
            }
            for detail in outcome.deployments {
                try await db.exec(detail.deployment.insertQuery(seq: self.flavor.nextDeploymentSeq))
                for stage in detail.stages { try await db.exec(stage.insertQuery) }
                let now = Date()
                try await self.enqueueOutbox(db, .triggered, deploymentID: detail.deployment.id, now: now)
                try await self.enqueueOutbox(db, .planned, deploymentID: detail.deployment.id, now: now)
            }
            if let comment = outcome.previewComment { try await self.enqueuePreviewComment(db, comment) }
            try await self.enqueueTriggerFailures(db, outcome.failures, now: Date())
            if !outcome.deployments.isEmpty { try await self.notify(db, .engine) }
        }
    }

    public func recentDeliveries(binding: String, limit: Int) async throws -> [DeliveryRecord] {
        try await read { db in
            try await db.rows("""
                SELECT binding, delivery_id, event, verdict, reason, trigger_id, received_at FROM deliveries
                WHERE binding = \(bind: binding) ORDER BY id DESC LIMIT \(bind: limit)
                """).map { c in
                DeliveryRecord(binding: try c.str("binding"), deliveryID: try c.str("delivery_id"), event: try c.str("event"),
                               verdict: try c.value("verdict", as: Verdict.self), reason: try c.str("reason"),
                               triggerID: try c.optInt("trigger_id").map(Int64.init), receivedAt: try c.date("received_at"))
            }
        }
    }

    public func pendingTriggerCount() async throws -> Int {
        try await read { db in
            try await db.one("SELECT COUNT(*) AS n FROM triggers WHERE planned_at IS NULL")?.int("n") ?? 0
        }
    }

    public func lastTriggeredCommit(repository: String, ref: String) async throws -> String? {
        try await read { db in
            try await db.one("""
                SELECT commit_hash FROM triggers WHERE repository = \(bind: repository) AND ref = \(bind: ref) AND commit_hash IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """)?.optStr("commit_hash")
        }
    }
}

func warningsJSON(_ warnings: [String]) -> String {
    warnings.isEmpty ? "[]" : (try? String(decoding: JSONEncoder().encode(warnings), as: UTF8.self)) ?? "[]"
}

/// Sorted keys: the same text for the same labels.
func labelsJSON(_ labels: [String: String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return (try? String(decoding: encoder.encode(labels), as: UTF8.self)) ?? "{}"
}
