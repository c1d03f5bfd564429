import Foundation
import Store
import Synchronization

/// Webhook deliveries are committed in batches: while one transaction is being fsynced, arriving deliveries
/// queue up and go into the next one together (SQLite has one writer).
final class GroupCommit: Sendable {
    typealias Flush = @Sendable ([NewDelivery]) async throws -> [IngestResult]
    private struct Waiting {
        let delivery: NewDelivery
        let continuation: CheckedContinuation<IngestResult, Error>
    }
    private struct State {
        var queue: [Waiting] = []
        var flushing = false
    }
    private let state = Mutex(State())

    /// Waits until `delivery` is committed, by `flush` (of this call or of one already running).
    func submit(_ delivery: NewDelivery, flush: @escaping Flush) async throws -> IngestResult {
        try await withCheckedThrowingContinuation { cont in
            let startFlush = state.withLock { s -> Bool in
                s.queue.append(Waiting(delivery: delivery, continuation: cont))
                if s.flushing { return false }
                s.flushing = true
                return true
            }
            if startFlush { Task { await self.flushLoop(flush) } }
        }
    }

    private func flushLoop(_ flush: Flush) async {
        while true {
            let batch = state.withLock { s -> [Waiting] in
                let b = s.queue; s.queue = []
                if b.isEmpty { s.flushing = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                let results = try await flush(batch.map(\.delivery))
                for (w, r) in zip(batch, results) { w.continuation.resume(returning: r) }
            } catch {
                for w in batch { w.continuation.resume(throwing: error) }
            }
        }
    }
}
