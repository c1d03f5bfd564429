import Foundation

/// What became of one webhook delivery: the Git host's answer, the metrics' label and the delivery history's column.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// Recorded with its trigger (202).
    case accepted
    /// This binding received the same delivery id before (200, nothing new recorded).
    case duplicate
    /// Recorded, nothing to deploy: another branch, a tag, a deletion, a ping (200).
    case ignored
    case unauthorized
    /// The store could not record it (503: the host retries).
    case unavailable
    case notFound = "not-found"
    case tooLarge = "too-large"
    case overloaded
}

/// A delivery as recorded, for "why did my push do nothing?" (`GET /api/v1/bindings/{id}/deliveries`).
public struct DeliveryRecord: Codable, Sendable, Equatable {
    public var binding: String
    public var deliveryID: String
    public var event: String
    public var verdict: Verdict
    public var reason: String
    public var triggerID: Int64?
    public var receivedAt: Date

    public init(binding: String, deliveryID: String, event: String, verdict: Verdict, reason: String,
                triggerID: Int64?, receivedAt: Date) {
        self.binding = binding; self.deliveryID = deliveryID; self.event = event; self.verdict = verdict
        self.reason = reason; self.triggerID = triggerID; self.receivedAt = receivedAt
    }
}

/// What the server reads to show deliveries and the trigger queue (API and metrics).
public protocol DeliveryStore: Sendable {
    /// The binding's most recent deliveries, newest first.
    func recentDeliveries(binding: String, limit: Int) async throws -> [DeliveryRecord]
    /// Triggers not planned yet: the planner's queue depth.
    func pendingTriggerCount() async throws -> Int
}

/// What the reconcile (the `git ls-remote` safety net for lost webhooks) needs from the store.
public protocol ReconcileStore: Sendable {
    /// The commit of the newest trigger for this repository and ref that named one (webhook, reconcile),
    /// or nil when there was none.
    func lastTriggeredCommit(repository: String, ref: String) async throws -> String?
    func addTrigger(_ trigger: NewTrigger) async throws -> Int64
}
