import Foundation
import Store
import Synchronization

/// The last few refused requests per binding (bad signature, body too large, overloaded), kept in memory only:
/// unauthenticated requests must never cause disk writes, yet "my push did nothing" is most often a wrong
/// secret, so the deliveries API shows these next to the recorded deliveries.
final class RecentRejections: Sendable {
    static let perBinding = 50
    private let entries: Mutex<[String: [DeliveryRecord]]>

    init(bindings: [String]) {
        entries = Mutex(Dictionary(uniqueKeysWithValues: bindings.map { ($0, []) }))
    }

    func add(binding: String, deliveryID: String?, event: String, verdict: Verdict, reason: String, at: Date) {
        // Ids and event names of refused requests are the requester's text: kept short.
        let record = DeliveryRecord(binding: binding, deliveryID: String((deliveryID ?? "").prefix(128)),
                                    event: String(event.prefix(64)), verdict: verdict,
                                    reason: reason, triggerID: nil, receivedAt: at)
        entries.withLock { all in
            // Only configured bindings: an unknown binding id is the requester's text and must not grow memory.
            guard var list = all[binding] else { return }
            list.append(record)
            if list.count > Self.perBinding { list.removeFirst(list.count - Self.perBinding) }
            all[binding] = list
        }
    }

    /// Newest first.
    func recent(binding: String) -> [DeliveryRecord] {
        entries.withLock { $0[binding] ?? [] }.reversed()
    }
}
