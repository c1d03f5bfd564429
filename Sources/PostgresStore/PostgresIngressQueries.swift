import Foundation
import PostgresNIO
import Store

/// Ingress, planner, deliveries and reconcile on PostgreSQL.
extension PostgresStore {
    /// One transaction per delivery: PostgreSQL commits concurrent transactions together itself. The unique
    /// (binding, delivery_id) holds across replicas: a delivery sent to two replicas makes one trigger.
    public func ingest(_ d: NewDelivery) async throws -> IngestResult {
        try await write { conn in
            let now = Date()
            guard let row = try await self.one(conn, """
                INSERT INTO deliveries (binding, delivery_id, event, verdict, reason, received_at)
                VALUES (\(d.binding), \(d.deliveryID), \(d.event), \(d.verdict), \(d.reason), \(now.epoch))
                ON CONFLICT (binding, delivery_id) DO NOTHING RETURNING id
                """) else { return .duplicate }
            guard !d.triggers.isEmpty else { return .recorded(triggerID: nil) }
            var ids: [Int64] = []
            for t in d.triggers { ids.append(try await self.insertTrigger(conn, t, now: now)) }
            let deliveryRow = try row.int("id")
            try await self.exec(conn, "UPDATE deliveries SET trigger_id = \(Int(ids[0])) WHERE id = \(deliveryRow)")
            try await self.notify(conn, .planner)
            return .recorded(triggerID: ids[0])
        }
    }

    public func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        try await write { conn in
            let id = try await self.insertTrigger(conn, trigger, now: Date())
            try await self.notify(conn, .planner)
            return id
        }
    }

    /// How long a replica may plan a repository's triggers before another may (it died while planning).
    static let planningClaimSeconds = 120.0

    /// Claims pending triggers for this process: whole repositories at a time, never one another replica is planning
    /// now, so the triggers of one repository are planned in order by one replica.
    public func pendingTriggers(limit: Int) async throws -> [Trigger] {
        try await write { conn in
            let now = Date().epoch
            try await self.exec(conn, "SELECT pg_advisory_xact_lock(74280002)")
            let claimed = try await self.rows(conn, """
                UPDATE triggers SET claimed_by = \(self.claimant), claimed_until = \(now + Self.planningClaimSeconds)
                WHERE id IN (
                    SELECT id FROM triggers WHERE planned_at IS NULL AND repository NOT IN (
                        SELECT repository FROM triggers WHERE planned_at IS NULL AND claimed_until >= \(now)
                        AND claimed_by <> \(self.claimant))
                    ORDER BY id LIMIT \(limit))
                RETURNING \(unescaped: Columns.trigger)
                """)
            return try claimed.map(Trigger.init).sorted { $0.id < $1.id }
        }
    }

    public func applications(repository: String?) async throws -> [Application] {
        try await read { conn in
            if let repository {
                return try await self.rows(conn, "SELECT * FROM applications WHERE repository = \(repository) ORDER BY name")
                    .map(Application.init)
            }
            return try await self.rows(conn, "SELECT * FROM applications ORDER BY name").map(Application.init)
        }
    }

    public func application(named name: String) async throws -> Application? {
        try await read { conn in
            try await self.one(conn, "SELECT * FROM applications WHERE name = \(name)").map(Application.init)
        }
    }

    /// Applied once per trigger: a replica whose claim ran out while another planned the same trigger finds it
    /// planned already and writes nothing.
    public func commitPlan(_ outcome: PlanOutcome) async throws {
        try await write { conn in
            // (An outcome for no stored trigger, as seeds write, applies.)
            let trigger = try await self.one(conn, """
                SELECT planned_at FROM triggers WHERE id = \(Int(outcome.triggerID)) FOR UPDATE
                """)
            if let trigger, try trigger.optDbl("planned_at") != nil { return }
            try await self.exec(conn, """
                UPDATE triggers SET planned_at = \(Date().epoch), note = \(outcome.note), claimed_by = NULL, claimed_until = NULL
                WHERE id = \(Int(outcome.triggerID))
                """)
            if !outcome.coalesced.isEmpty {
                try await self.exec(conn, """
                    UPDATE triggers SET planned_at = \(Date().epoch), note = \(outcome.coalescedNote), claimed_by = NULL,
                        claimed_until = NULL
                    WHERE planned_at IS NULL AND id = ANY(\(outcome.coalesced.map { Int($0) }))
                    """)
            }
            for app in outcome.applications {
                // running_commit is owned by the engine (set on SUCCESS): never overwrite it from a plan.
                try await self.exec(conn, """
                    INSERT INTO applications (name, repository, path, config_file, kind, platform, last_triggered_commit,
                                              running_commit, config_error, updated_at, labels)
                    VALUES (\(app.name), \(app.repository), \(app.path), \(app.configFile), \(app.kind), \(app.platform),
                            \(app.lastTriggeredCommit), \(app.runningCommit), \(app.configError), \(app.updatedAt.epoch),
                            \(Self.labelsJSON(app.labels)))
                    ON CONFLICT (name) DO UPDATE SET repository = excluded.repository, path = excluded.path,
                        config_file = excluded.config_file, kind = excluded.kind, platform = excluded.platform,
                        last_triggered_commit = excluded.last_triggered_commit, config_error = excluded.config_error,
                        updated_at = excluded.updated_at, labels = excluded.labels
                    """)
            }
            for detail in outcome.deployments {
                try await self.exec(conn, detail.deployment.insertQuery)
                for stage in detail.stages { try await self.exec(conn, stage.insertQuery) }
            }
            if !outcome.deployments.isEmpty { try await self.notify(conn, .engine) }
        }
    }

    /// Sorted keys: the same text for the same labels, in both stores.
    static func labelsJSON(_ labels: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(labels), as: UTF8.self)) ?? "{}"
    }

    public func recentDeliveries(binding: String, limit: Int) async throws -> [DeliveryRecord] {
        try await read { conn in
            try await self.rows(conn, """
                SELECT binding, delivery_id, event, verdict, reason, trigger_id, received_at FROM deliveries
                WHERE binding = \(binding) ORDER BY id DESC LIMIT \(limit)
                """).map { c in
                DeliveryRecord(binding: try c.str("binding"), deliveryID: try c.str("delivery_id"), event: try c.str("event"),
                               verdict: try c.str("verdict"), reason: try c.str("reason"),
                               triggerID: try c.optInt("trigger_id").map(Int64.init), receivedAt: try c.date("received_at"))
            }
        }
    }

    public func pendingTriggerCount() async throws -> Int {
        try await read { conn in
            try await self.one(conn, "SELECT COUNT(*) AS n FROM triggers WHERE planned_at IS NULL")?.int("n") ?? 0
        }
    }

    public func lastTriggeredCommit(repository: String, ref: String) async throws -> String? {
        try await read { conn in
            try await self.one(conn, """
                SELECT commit_hash FROM triggers WHERE repository = \(repository) AND ref = \(ref) AND commit_hash IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """)?.optStr("commit_hash")
        }
    }
}
