/// `details.functionIsolation` in /healthz: what the start-up check found.
public struct IsolationHealth: Codable, Sendable, Equatable {
    /// `required` or `off` (functions.isolation).
    public var mode: String
    /// Whether invocations run isolated.
    public var active: Bool
    /// Who functions run as.
    public var user: String
    public var uid: UInt32
    /// Whether `network: none` can be applied here.
    public var networkNone: Bool
    /// Why isolation cannot be set up on this machine (only ever with `off`: `required` refuses to start).
    public var problem: String?
    public init(mode: String, active: Bool, user: String, uid: UInt32, networkNone: Bool, problem: String?) {
        self.mode = mode; self.active = active; self.user = user; self.uid = uid; self.networkNone = networkNone
        self.problem = problem
    }
}

/// /healthz: `status` stays the one thing load balancers read; `details` is for people.
public struct Health: Codable, Sendable, Equatable {
    public struct Details: Codable, Sendable, Equatable {
        public var functionIsolation: IsolationHealth?
        public init(functionIsolation: IsolationHealth?) { self.functionIsolation = functionIsolation }
    }
    public var status: String
    public var reason: String
    public var details: Details
    public init(status: String, reason: String, details: Details) {
        self.status = status; self.reason = reason; self.details = details
    }
}
