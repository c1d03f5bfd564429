import FunctionKit

/// `POST /api/v1/deployments/{id}/approve`: which waiting stage, when several wait.
public struct ApproveRequest: Codable, Sendable, Equatable {
    public var stage: Int?
    public init(stage: Int? = nil) { self.stage = stage }
}

/// `POST /api/v1/deployments/{id}/skip`: which stage; without it, the one stage that can be skipped now.
public struct SkipRequest: Codable, Sendable, Equatable {
    public var stage: Int?
    public init(stage: Int? = nil) { self.stage = stage }
}

/// `POST /api/v1/deployments/{id}/cancel`: whether the rollback stages run (default true).
public struct CancelRequest: Codable, Sendable, Equatable {
    public var rollback: Bool?
    public init(rollback: Bool? = nil) { self.rollback = rollback }
}

/// `POST /api/v1/applications/{name}/sync`: `auto` (default), `quick-sync` or `pipeline`.
public struct SyncRequest: Codable, Sendable, Equatable {
    public var strategy: String?
    public init(strategy: String? = nil) { self.strategy = strategy }
}

/// `POST /api/v1/callbacks/{token}`: an outside system resolves a suspended stage.
public struct CallbackRequest: Codable, Sendable, Equatable {
    /// `succeeded`, `failed` or `heartbeat`.
    public var status: String
    public var payload: JSONValue?
    public init(status: String, payload: JSONValue? = nil) { self.status = status; self.payload = payload }
}
