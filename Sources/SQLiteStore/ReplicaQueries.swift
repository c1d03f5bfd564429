import Foundation
import GRDB
import Store

/// Replicas and lease renewal (ReplicaStore), and wake-ups (StoreNotifications: in one process, nobody else).
extension SQLiteStore {
    public func heartbeat(replica: String, owner: String, startedAt: Date, leases: [HeldLease], leaseExpiry: Date,
                          liveWithin: Double, now: Date) async throws -> HeartbeatAnswer {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO replicas (id, owner, started_at, last_heartbeat) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at,
                    last_heartbeat = excluded.last_heartbeat
                """, arguments: [replica, owner, startedAt.unix, now.unix])
            var lost: [HeldLease] = []
            for lease in leases {
                try db.execute(sql: """
                    UPDATE stages SET lease_expiry = ? WHERE deployment_id = ? AND idx = ? AND attempt = ?
                    AND status = 'RUNNING' AND lease_owner = ?
                    """, arguments: [leaseExpiry.unix, lease.deploymentID, lease.index, lease.attempt, owner])
                if db.changesCount == 0 { lost.append(lease) }
            }
            let live = try String.fetchAll(db, sql: "SELECT id FROM replicas WHERE last_heartbeat >= ? ORDER BY id",
                                           arguments: [now.unix - liveWithin])
            return HeartbeatAnswer(lost: lost, liveReplicas: live)
        }
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM replicas ORDER BY id").map { row in
                let owner: String = row["owner"]
                let held = try Row.fetchAll(db, sql: """
                    SELECT deployment_id, idx FROM stages WHERE status = 'RUNNING' AND lease_owner = ?
                    ORDER BY deployment_id, idx
                    """, arguments: [owner]).map { "\($0["deployment_id"] as String)/\($0["idx"] as Int)" }
                return ReplicaRecord(id: row["id"], owner: owner, startedAt: date(row["started_at"])!,
                                     lastHeartbeat: date(row["last_heartbeat"])!, stagesHeld: held)
            }
        }
    }

    /// One process owns a SQLite store: every wake-up is already in memory. Waits until cancelled.
    public func listen(_ onWake: @escaping @Sendable (WakeTopic) -> Void) async throws {
        while !Task.isCancelled { try? await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }
}
