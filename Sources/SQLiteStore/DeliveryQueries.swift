import Foundation
import GRDB
import Store

/// Reads for the deliveries API, the metrics page and the reconcile (DeliveryStore, ReconcileStore).
extension SQLiteStore {
    public func recentDeliveries(binding: String, limit: Int) async throws -> [DeliveryRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT binding, delivery_id, event, verdict, reason, trigger_id, received_at FROM deliveries
                WHERE binding = ? ORDER BY id DESC LIMIT ?
                """, arguments: [binding, limit]).map { row in
                DeliveryRecord(binding: row["binding"], deliveryID: row["delivery_id"], event: row["event"],
                               verdict: row["verdict"], reason: row["reason"], triggerID: row["trigger_id"],
                               receivedAt: Date(timeIntervalSince1970: row["received_at"]))
            }
        }
    }

    public func pendingTriggerCount() async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM triggers WHERE planned_at IS NULL") ?? 0
        }
    }

    public func lastTriggeredCommit(repository: String, ref: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: """
                SELECT commit_hash FROM triggers WHERE repository = ? AND ref = ? AND commit_hash IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """, arguments: [repository, ref])
        }
    }
}
