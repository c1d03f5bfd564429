import Foundation
import GRDB
import Store
import Synchronization

/// Webhook deliveries are committed in batches: while one transaction is being fsynced, arriving deliveries
/// queue up and go into the next one together. Each caller still returns only after *its* delivery is durable,
/// but a burst of N deliveries costs about one fsync instead of N (SQLite has one writer).
final class GroupCommit: Sendable {
    private struct Waiting {
        let delivery: NewDelivery
        let continuation: CheckedContinuation<IngestResult, Error>
    }
    private struct State {
        var queue: [Waiting] = []
        var flushing = false
    }
    private let pool: DatabasePool
    private let state = Mutex(State())

    init(pool: DatabasePool) { self.pool = pool }

    func submit(_ delivery: NewDelivery) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { cont in
            let startFlush = state.withLock { s -> Bool in
                s.queue.append(Waiting(delivery: delivery, continuation: cont))
                if s.flushing { return false }
                s.flushing = true
                return true
            }
            if startFlush { Task { await self.flushLoop() } }
        }
    }

    private func flushLoop() async {
        while true {
            let batch = state.withLock { s -> [Waiting] in
                let b = s.queue; s.queue = []
                if b.isEmpty { s.flushing = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                let results = try await pool.write { db in try batch.map { try Self.record(db, $0.delivery) } }
                for (w, r) in zip(batch, results) { w.continuation.resume(returning: r) }
            } catch {
                for w in batch { w.continuation.resume(throwing: error) }
            }
        }
    }

    private static func record(_ db: Database, _ d: NewDelivery) throws -> IngestResult {
        let now = Date()
        // Cached statements: compiling the SQL anew for every delivery was a visible part of ingest time.
        try db.cachedStatement(sql: """
            INSERT INTO deliveries (binding, delivery_id, event, verdict, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (binding, delivery_id) DO NOTHING
            """).execute(arguments: [d.binding, d.deliveryID, d.event, d.verdict, d.reason, now.unix])
        if db.changesCount == 0 { return .duplicate }
        let deliveryRow = db.lastInsertedRowID
        guard !d.triggers.isEmpty else { return .recorded(triggerID: nil) }
        // Several ref updates in one delivery: all their triggers commit with it, or none do.
        let ids = try d.triggers.map { try insertTrigger(db, $0, now: now) }
        try db.cachedStatement(sql: "UPDATE deliveries SET trigger_id = ? WHERE id = ?")
            .execute(arguments: [ids[0], deliveryRow])
        return .recorded(triggerID: ids[0])
    }
}
