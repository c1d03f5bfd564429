import Foundation

/// A lease an engine holds on one stage's attempt (what it renews while the function runs).
public struct HeldLease: Sendable, Hashable, Codable {
    public var deploymentID: String
    public var index: Int
    public var attempt: Int
    public init(deploymentID: String, index: Int, attempt: Int) {
        self.deploymentID = deploymentID; self.index = index; self.attempt = attempt
    }
}

/// One Gantry process sharing the store (`GET /api/v1/replicas`).
public struct ReplicaRecord: Sendable, Equatable {
    public var id: String
    /// The lease owner name of its current process start.
    public var owner: String
    public var startedAt: Date
    public var lastHeartbeat: Date
    /// "deploymentID/index" of every stage it runs now.
    public var stagesHeld: [String]
    public init(id: String, owner: String, startedAt: Date, lastHeartbeat: Date, stagesHeld: [String]) {
        self.id = id; self.owner = owner; self.startedAt = startedAt; self.lastHeartbeat = lastHeartbeat
        self.stagesHeld = stagesHeld
    }
}

/// What a heartbeat learns: the leases this replica lost (another replica took the stage over after expiry, or
/// it finished elsewhere) and which replicas are alive now.
public struct HeartbeatAnswer: Sendable, Equatable {
    public var lost: [HeldLease]
    public var liveReplicas: [String]
    public init(lost: [HeldLease], liveReplicas: [String]) { self.lost = lost; self.liveReplicas = liveReplicas }
}

/// Several Gantry processes on one store: each names itself, beats, and extends the leases of the stages it runs.
/// With SQLite there is one replica; the calls are the same, so both stores run one production path.
public protocol ReplicaStore: Sendable {
    /// Records that `replica` (process `owner`, started at `startedAt`) is alive at `now`, extends every lease in
    /// `leases` it still holds to `leaseExpiry`, and reports the ones it lost. A replica is live when it beat
    /// within `liveWithin` seconds.
    func heartbeat(replica: String, owner: String, startedAt: Date, leases: [HeldLease], leaseExpiry: Date,
                   liveWithin: Double, now: Date) async throws -> HeartbeatAnswer
    func replicas() async throws -> [ReplicaRecord]
}

/// What a cross-process wake-up is for.
public enum WakeTopic: String, Sendable {
    /// A trigger was committed: plan it.
    case planner
    /// A deployment, stage result, approval, cancel or callback was committed: advance.
    case engine
}

/// One wake-up between processes: for the planner, or for the engine, naming the deployment it is about when
/// there is one (the engine then reads that deployment alone).
public struct StoreWake: Sendable, Equatable {
    public var topic: WakeTopic
    public var deploymentID: String?

    public init(topic: WakeTopic, deploymentID: String? = nil) { self.topic = topic; self.deploymentID = deploymentID }

    public static let planner = StoreWake(topic: .planner)
    /// New work may start (a deployment planned or finished).
    public static let engine = StoreWake(topic: .engine)
    public static func deployment(_ id: String) -> StoreWake { StoreWake(topic: .engine, deploymentID: id) }

    /// As sent with NOTIFY: `planner`, `engine` or `engine:<deployment id>`.
    public var payload: String { deploymentID.map { "\(topic.rawValue):\($0)" } ?? topic.rawValue }

    public init?(payload: String) {
        let parts = payload.split(separator: ":", maxSplits: 1).map(String.init)
        guard let topic = parts.first.flatMap(WakeTopic.init(rawValue:)) else { return nil }
        self.init(topic: topic, deploymentID: parts.count > 1 ? parts[1] : nil)
    }
}

/// Wake-ups between replicas (PostgreSQL `LISTEN/NOTIFY`). A single-process store has nobody else to hear from.
public protocol StoreNotifications: Sendable {
    /// Calls `onWake` for every wake-up another process (or this one) committed; returns when cancelled, throws
    /// when the connection is lost (the caller listens again after a pause).
    func listen(_ onWake: @escaping @Sendable (StoreWake) -> Void) async throws
}
