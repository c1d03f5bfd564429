import Foundation
import PostgresNIO
import Store

/// Replicas, lease renewal and `LISTEN/NOTIFY` wake-ups on PostgreSQL.
extension PostgresStore {
    public func heartbeat(replica: String, owner: String, startedAt: Date, leases: [HeldLease], leaseExpiry: Date,
                          liveWithin: Double, now: Date) async throws -> HeartbeatAnswer {
        try await write { conn in
            try await self.exec(conn, """
                INSERT INTO replicas (id, owner, started_at, last_heartbeat)
                VALUES (\(replica), \(owner), \(startedAt.epoch), \(now.epoch))
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at,
                    last_heartbeat = excluded.last_heartbeat
                """)
            var lost: [HeldLease] = []
            if !leases.isEmpty {
                // Renewed only while still ours at the same attempt: a lease taken over after expiry stays lost.
                let renewed = try await self.rows(conn, """
                    UPDATE stages SET lease_expiry = \(leaseExpiry.epoch)
                    FROM unnest(\(leases.map(\.deploymentID))::text[], \(leases.map(\.index))::bigint[],
                                \(leases.map(\.attempt))::bigint[]) AS held(deployment_id, idx, attempt)
                    WHERE stages.deployment_id = held.deployment_id AND stages.idx = held.idx
                    AND stages.attempt = held.attempt AND stages.status = 'RUNNING' AND stages.lease_owner = \(owner)
                    RETURNING stages.deployment_id, stages.idx, stages.attempt
                    """)
                let kept = Set(try renewed.map { HeldLease(deploymentID: try $0.str("deployment_id"), index: try $0.int("idx"),
                                                           attempt: try $0.int("attempt")) })
                lost = leases.filter { !kept.contains($0) }
            }
            let live = try await self.rows(conn, """
                SELECT id FROM replicas WHERE last_heartbeat >= \(now.epoch - liveWithin) ORDER BY id
                """).map { try $0.str("id") }
            return HeartbeatAnswer(lost: lost, liveReplicas: live)
        }
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await read { conn in
            var held: [String: [String]] = [:]
            for c in try await self.rows(conn, """
                SELECT lease_owner, deployment_id, idx FROM stages WHERE status = 'RUNNING' AND lease_owner IS NOT NULL
                ORDER BY deployment_id, idx
                """) {
                held[try c.str("lease_owner"), default: []].append("\(try c.str("deployment_id"))/\(try c.int("idx"))")
            }
            return try await self.rows(conn, "SELECT * FROM replicas ORDER BY id").map { c in
                let owner = try c.str("owner")
                return ReplicaRecord(id: try c.str("id"), owner: owner, startedAt: try c.date("started_at"),
                                     lastHeartbeat: try c.date("last_heartbeat"), stagesHeld: held[owner] ?? [])
            }
        }
    }

    /// Holds one connection with `LISTEN gantry` and calls `onWake` per notification until cancelled.
    public func listen(_ onWake: @escaping @Sendable (WakeTopic) -> Void) async throws {
        try await client.withConnection { conn in
            try await conn.listen(on: "gantry") { notifications in
                for try await n in notifications {
                    if let topic = WakeTopic(rawValue: n.payload) { onWake(topic) }
                }
            }
        }
    }
}
