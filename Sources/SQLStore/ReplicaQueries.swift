import Foundation
import SQLKit
import Store

/// Replicas and lease renewal (with SQLite there is one replica; the calls are the same).
extension SQLBackedStore {
    public func heartbeat(replica: String, owner: String, startedAt: Date, leases: [HeldLease], leaseExpiry: Date,
                          liveWithin: Double, now: Date) async throws -> HeartbeatAnswer {
        try await write { db in
            try await db.exec("""
                INSERT INTO replicas (id, owner, started_at, last_heartbeat)
                VALUES (\(bind: replica), \(bind: owner), \(bind: startedAt.epoch), \(bind: now.epoch))
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at,
                    last_heartbeat = excluded.last_heartbeat
                """)
            var lost: [HeldLease] = []
            if !leases.isEmpty {
                // Renewed only while still ours at the same attempt: a lease taken over after expiry stays lost.
                let held = leases.map { l -> SQLQueryString in "(\(bind: l.deploymentID), \(bind: l.index), \(bind: l.attempt))" }
                let renewed = try await db.rows("""
                    UPDATE stages SET lease_expiry = \(bind: leaseExpiry.epoch)
                    WHERE (deployment_id, idx, attempt) IN (VALUES \(held.joined(separator: ", ")))
                    AND status = 'RUNNING' AND lease_owner = \(bind: owner)
                    RETURNING deployment_id, idx, attempt
                    """)
                let kept = Set(try renewed.map { HeldLease(deploymentID: try $0.str("deployment_id"), index: try $0.int("idx"),
                                                           attempt: try $0.int("attempt")) })
                lost = leases.filter { !kept.contains($0) }
            }
            let live = try await db.rows("""
                SELECT id FROM replicas WHERE last_heartbeat >= \(bind: now.epoch - liveWithin) ORDER BY id
                """).map { try $0.str("id") }
            return HeartbeatAnswer(lost: lost, liveReplicas: live)
        }
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await read { db in
            var held: [String: [String]] = [:]
            for c in try await db.rows("""
                SELECT lease_owner, deployment_id, idx FROM stages WHERE status = 'RUNNING' AND lease_owner IS NOT NULL
                ORDER BY deployment_id, idx
                """) {
                held[try c.str("lease_owner"), default: []].append("\(try c.str("deployment_id"))/\(try c.int("idx"))")
            }
            return try await db.rows("SELECT * FROM replicas ORDER BY id").map { c in
                let owner = try c.str("owner")
                return ReplicaRecord(id: try c.str("id"), owner: owner, startedAt: try c.date("started_at"),
                                     lastHeartbeat: try c.date("last_heartbeat"), stagesHeld: held[owner] ?? [])
            }
        }
    }
}
