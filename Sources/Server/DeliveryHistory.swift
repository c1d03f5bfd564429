import Ingress
import Store

/// "Why did my push do nothing?": a binding's recent deliveries, newest first — the stored ones, and the refused
/// ones (bad signature, too large, overloaded) that ingress keeps in memory only. One place for the API and the UI.
func deliveryHistory(binding: String, limit: Int, store: any DeliveryStore, ingress: Ingress) async throws
    -> [(record: DeliveryRecord, recorded: Bool)] {
    let stored = try await store.recentDeliveries(binding: binding, limit: limit).map { (record: $0, recorded: true) }
    let refused = ingress.recentRefusals(binding: binding).prefix(limit).map { (record: $0, recorded: false) }
    return Array((stored + refused).sorted { $0.record.receivedAt > $1.record.receivedAt }.prefix(limit))
}
