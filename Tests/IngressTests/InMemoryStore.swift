import Foundation
import Store

/// The ingress part of the store, in memory, with failure injection.
actor InMemoryStore: IngressStore {
    struct Unavailable: Error {}

    private var deliveries: [NewDelivery] = []
    private var triggers: [Trigger] = []
    private var failing = false
    /// Triggers committed so far, readable synchronously (from `onTrigger`, to check it came after the commit).
    nonisolated let committedTriggers = LockedCounter()

    func setFailing(_ failing: Bool) { self.failing = failing }
    func recordedDeliveries() -> [NewDelivery] { deliveries }
    func recordedTriggers() -> [Trigger] { triggers }

    func ingest(_ delivery: NewDelivery) async throws -> IngestResult {
        if failing { throw Unavailable() }
        if deliveries.contains(where: { $0.binding == delivery.binding && $0.deliveryID == delivery.deliveryID }) {
            return .duplicate
        }
        deliveries.append(delivery)
        let ids = delivery.triggers.map { append($0) }
        return .recorded(triggerID: ids.first)
    }

    func addTrigger(_ trigger: NewTrigger) async throws -> Int64 {
        if failing { throw Unavailable() }
        return append(trigger)
    }

    private func append(_ trigger: NewTrigger) -> Int64 {
        let id = Int64(triggers.count + 1)
        triggers.append(Trigger(id: id, trigger: trigger, createdAt: Date()))
        committedTriggers.increment()
        return id
    }
}

/// A counter shared between threads without an actor hop.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
