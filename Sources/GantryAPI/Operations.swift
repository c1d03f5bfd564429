/// One webhook delivery as `GET /api/v1/bindings/{id}/deliveries` shows it.
public struct DeliveryView: Codable, Sendable, Equatable {
    public var id: String
    public var event: String
    /// `accepted`, `duplicate`, `ignored`, `unauthorized`, `not-found`, `too-large`, `overloaded`…
    public var verdict: String
    public var reason: String
    public var receivedAt: String
    public var triggerId: Int64?
    /// False for refused requests (bad signature, too large, overloaded): kept in memory only, never stored.
    public var recorded: Bool
    public init(id: String, event: String, verdict: String, reason: String, receivedAt: String, triggerId: Int64?,
                recorded: Bool) {
        self.id = id; self.event = event; self.verdict = verdict; self.reason = reason; self.receivedAt = receivedAt
        self.triggerId = triggerId; self.recorded = recorded
    }
}

public struct DeliveryList: Codable, Sendable, Equatable {
    public var binding: String
    public var deliveries: [DeliveryView]
    public init(binding: String, deliveries: [DeliveryView]) { self.binding = binding; self.deliveries = deliveries }
}

/// A replica sharing the store (`GET /api/v1/replicas`).
public struct ReplicaView: Codable, Sendable, Equatable {
    public var id: String
    public var startedAt: String
    public var lastHeartbeat: String
    public var live: Bool
    public var stagesHeld: [String]
    public init(id: String, startedAt: String, lastHeartbeat: String, live: Bool, stagesHeld: [String]) {
        self.id = id; self.startedAt = startedAt; self.lastHeartbeat = lastHeartbeat; self.live = live
        self.stagesHeld = stagesHeld
    }
}

public struct ReplicaList: Codable, Sendable, Equatable {
    public var replicas: [ReplicaView]
    public init(replicas: [ReplicaView]) { self.replicas = replicas }
}
